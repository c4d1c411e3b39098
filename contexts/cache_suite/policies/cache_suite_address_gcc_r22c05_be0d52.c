return now + 0.08 * (now - cache.last_evicted) * obj.count;

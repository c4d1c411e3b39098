return (obj.count > 1.0 ? now : cache.last_evicted + cache.capacity * obj.freq) + 0.06142 * (now - cache.last_evicted);

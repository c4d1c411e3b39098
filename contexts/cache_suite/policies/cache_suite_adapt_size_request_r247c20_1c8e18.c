return 0.028 * now * pow(obj.freq, 2.0) + 0.03 * now * obj.count + (now + 2.5 * cache.capacity * ghost.count - cache.last_evicted) * log1p(obj.freq);

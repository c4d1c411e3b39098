return obj.count > 1.0 ? now + 0.73 * (1.4 * cache.capacity * ps_div(now - obj.prev_access, cache.capacity)) * obj.count : cache.last_evicted + cache.capacity * obj.freq;

return obj.freq > 2.0 ? 0.04 * cache.capacity * obj.freq + 0.4 * ps_div(now, cache.last_evicted) - cache.capacity : obj.count + ps_div(obj.count, obj.freq) + ghost.hit;

return (obj.count > 3.0) + ghost.count ? now + 0.4 * cache.capacity * obj.count : cache.last_evicted + cache.capacity * obj.freq - ps_div(now, now);

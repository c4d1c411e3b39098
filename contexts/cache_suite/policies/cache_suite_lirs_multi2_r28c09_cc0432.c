return obj.count + ghost.count > 1.0 ? now : 0.4798 * cache.age_p50 * obj.freq - cache.age_p50 + cache.capacity - ps_div(now, 1.0 + now);

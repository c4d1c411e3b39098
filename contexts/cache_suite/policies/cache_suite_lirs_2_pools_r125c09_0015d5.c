return obj.count > 1.0 ? now + cache.capacity + 2.3 * cache.age_p90 * ps_div(now - obj.prev_access, cache.capacity) + obj.freq : now;

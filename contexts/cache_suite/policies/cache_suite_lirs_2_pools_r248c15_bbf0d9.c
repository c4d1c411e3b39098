return (obj.count > 1.9 ? now + cache.capacity : now) - (log1p(obj.freq) >= 0.9 ? 0.1 * cache.age_p50 : 0.2) + 0.023 * cache.capacity * ps_div(cache.capacity, obj.prev_access);

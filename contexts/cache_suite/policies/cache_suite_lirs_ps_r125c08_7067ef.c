return ps_div(obj.count, 0.1 * cache.age_p50 - ps_div(cache.capacity, now) > 4.0 ? now - obj.prev_access : (-0.05));

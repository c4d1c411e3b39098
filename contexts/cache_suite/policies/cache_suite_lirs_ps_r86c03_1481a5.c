return ps_div(obj.count, 0.14 * cache.age_p50 - ps_div(cache.capacity, cache.age_p90) > 4.0 ? now : (-0.05));

return pow(obj.count, 1.0) > 3.0 ? now + cache.capacity * sqrt(obj.count) + 2.0 * cache.age_p90 * ps_div(now - obj.prev_access, cache.capacity) : now;

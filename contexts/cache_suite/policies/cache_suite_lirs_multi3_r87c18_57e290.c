return obj.count - (cache.age_p90 + now) + (0.07 * cache.age_p50 + ps_div(-obj.prev_access, cache.capacity)) + cache.age_p90 * pow(obj.freq, 1.8) + 0.4 * now * ghost.hit;

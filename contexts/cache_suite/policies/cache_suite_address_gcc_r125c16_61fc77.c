return now + cache.capacity * sqrt(obj.count) + 0.06 * (0.8 * cache.age_p50 * ps_div(obj.count, obj.freq)) * obj.count + 2.0 * cache.age_p50 * ghost.hit;

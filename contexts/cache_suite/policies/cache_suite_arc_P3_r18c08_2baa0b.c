return log1p(0.413 * cache.age_p90 * obj.freq) * obj.prev_access + 0.7749 * cache.age_p50 * pow(obj.count, 1.177) + 1.219 * cache.capacity * ghost.count;

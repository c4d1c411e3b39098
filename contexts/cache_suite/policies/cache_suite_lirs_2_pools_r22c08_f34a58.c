return obj.count > 1.0 ? now + cache.capacity + 0.05 * cache.age_p90 * obj.count : now;

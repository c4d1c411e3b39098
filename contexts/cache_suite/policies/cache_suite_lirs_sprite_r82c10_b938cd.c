return now + cache.capacity * log1p(obj.count) - 0.3479 * cache.age_p50 * log1p(obj.count);

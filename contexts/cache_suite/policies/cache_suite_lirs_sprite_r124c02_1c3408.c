return log1p(obj.count) >= 2.0 ? now + 1.3 + cache.capacity * log1p(obj.count) - 0.3507 * cache.age_p50 * log1p(obj.count) : now + 1.034 + cache.capacity * log1p(obj.count) - 0.3479 * cache.age_p50;

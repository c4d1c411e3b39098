return now + (cache.capacity * log1p(obj.count) + 0.05566 * cache.age_p90 * ghost.count) - 0.3831 * cache.age_p50 * log1p(obj.count);

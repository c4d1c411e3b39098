return now + (cache.capacity * log1p(obj.count) + 0.1193 * cache.age_p90 * (-2.477));

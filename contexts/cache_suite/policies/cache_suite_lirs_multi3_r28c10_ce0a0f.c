return log1p(obj.freq) >= 1.0 ? obj.count + 0.081 * cache.age_p90 * log1p(obj.count) + now * ghost.count : -now;

return cache.last_evicted - 0.26 * cache.age_p90 * ghost.hit + 0.126 * cache.age_p50 * pow(obj.count, 2.6) + (cache.capacity * obj.count + (cache.age_p90 * log1p(obj.freq) - 0.3549) * ghost.hit);

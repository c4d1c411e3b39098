return cache.last_evicted + (sqrt(obj.count) * sqrt(1.011 * cache.age_p50 * log1p(obj.freq)) * obj.count + 0.101 * cache.capacity * ghost.count);

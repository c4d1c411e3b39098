return cache.last_evicted + (sqrt(obj.count) * sqrt(cache.age_p50 * log1p(obj.freq)) * obj.count + 0.14 * cache.capacity * ghost.count);

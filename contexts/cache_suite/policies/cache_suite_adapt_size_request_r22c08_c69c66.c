return cache.age_p50 * cache.age_p50 * ghost.hit + (now - cache.last_evicted) * log1p(obj.freq);

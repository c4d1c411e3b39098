return cache.age_p90 * obj.freq * ghost.hit + 1.2 * (now - cache.last_evicted) * log1p(obj.freq);

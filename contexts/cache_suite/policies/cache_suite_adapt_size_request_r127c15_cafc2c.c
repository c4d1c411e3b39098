return 0.03 * (cache.age_p90 + 0.7 * now) * pow(obj.freq, 1.783) + (now + 1.338 * cache.capacity * ghost.count - cache.last_evicted) * log1p(obj.freq);

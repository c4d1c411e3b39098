return 0.028 * (0.75 * now) * pow(obj.count, 1.8) + (now + 1.466 * cache.capacity * ghost.count - cache.last_evicted) * log1p(obj.freq);

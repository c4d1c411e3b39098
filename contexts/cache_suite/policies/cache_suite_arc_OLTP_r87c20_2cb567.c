return now + (1.34 * (now - cache.last_evicted) - log1p(0.4129) + 0.374 * (-0.05) * ghost.hit) + (cache.capacity + 0.5138 * cache.age_p90 * ghost.count) * obj.count;

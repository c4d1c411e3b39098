return cache.last_evicted + 1.073 * cache.capacity * ghost.count + (cache.capacity + 0.36 * (now - obj.insert_time) * 2.96 + (0.054 - obj.count) + 0.1427 * cache.age_p90 * ghost.hit);

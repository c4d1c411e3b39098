return (obj.count <= 1.0 ? now + -cache.age_p50 + cache.age_p90 * ghost.count : cache.last_evicted + cache.capacity * obj.freq) + 0.03 * cache.age_p90 * obj.count;

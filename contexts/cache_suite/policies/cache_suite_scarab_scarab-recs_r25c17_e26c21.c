return (obj.count > obj.freq ? now + cache.capacity * obj.count : cache.last_evicted + cache.capacity * obj.freq) + cache.capacity * ghost.count - 0.08 * cache.age_p50;

return cache.last_evicted + (cache.capacity * obj.count - 0.5 * cache.capacity + 1.4 * cache.capacity * ghost.count);

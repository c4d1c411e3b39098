return now + (cache.capacity * obj.count + 2.0 * cache.capacity * ghost.count);

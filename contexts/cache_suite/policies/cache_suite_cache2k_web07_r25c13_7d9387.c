return now + 2.0 * cache.capacity * obj.count + 4.4 * cache.capacity * log1p(obj.freq) + cache.capacity * ghost.count;

return obj.count >= 3.0 ? now + cache.capacity * log1p(obj.count) : now + 0.26 * cache.capacity * obj.freq;

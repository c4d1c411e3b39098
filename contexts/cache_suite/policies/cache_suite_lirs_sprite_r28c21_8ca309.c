return pow(obj.count, 1.25) > 3.0 ? now + cache.capacity * log1p(obj.count) : now + (0.07 * cache.capacity * pow(obj.count, 1.9) - -(0.06 * cache.capacity) + 0.08 * cache.capacity * obj.freq);

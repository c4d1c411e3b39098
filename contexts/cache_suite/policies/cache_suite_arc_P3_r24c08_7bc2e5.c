return now + 3.0 * (now + 2.1 * cache.capacity * log1p(obj.count)) * log1p(obj.freq);

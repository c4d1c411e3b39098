return obj.count + 0.183 * cache.capacity * (0.6978 * cache.capacity * log1p(obj.freq));

return obj.freq > 3.0 ? (0.022 * now + 0.2084 * cache.capacity) * log1p(obj.freq) : (0.05176 * (now - cache.last_evicted) + 0.18 * cache.capacity) * log1p(obj.freq);

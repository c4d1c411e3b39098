return (0.053 * now + 0.19 * cache.capacity) * log1p(obj.freq);

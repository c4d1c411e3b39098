return 3.9 + 0.053 * cache.capacity * log1p(obj.count) + 0.12 * ps_div(now, cache.last_evicted) * log1p(obj.freq);

return obj.count > 1.0 ? now : cache.last_evicted + 1.1 * log1p(obj.count) + cache.capacity * obj.freq + 0.255 * cache.age_p50;

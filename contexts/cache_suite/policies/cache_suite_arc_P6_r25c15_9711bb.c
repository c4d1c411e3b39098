return obj.count >= 1.034 ? cache.last_evicted + cache.capacity * obj.freq + 0.058 * cache.age_p50 * obj.freq : now + cache.capacity * obj.freq;

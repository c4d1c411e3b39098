return cache.last_evicted + obj.freq * (cache.age_p50 * obj.freq) + obj.prev_access * obj.count;

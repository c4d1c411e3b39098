return cache.last_evicted + ps_div((-((-1.0) * cache.age_p50 * pow(obj.freq, 2.4)) + obj.prev_access) * obj.count, pow(obj.count, 1.0) < 2.0 ? 0.3 * cache.age_p50 : 0.12 * cache.age_p50 * obj.freq);

return cache.last_evicted + ps_div(0.054 * cache.age_p50 * pow(obj.count, 1.25) * obj.count + 3.952 * cache.age_p50 * ps_div(obj.count, obj.freq) + cache.age_p90 * ghost.count, obj.insert_time);

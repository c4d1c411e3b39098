return cache.last_evicted + 0.2555 * cache.age_p90 * ghost.hit + 0.2106 * cache.age_p50 * ps_div(obj.count, obj.freq) * obj.count;

return cache.last_evicted + 0.067 * cache.age_p90 * ghost.hit + (now - cache.last_evicted) * ps_div(obj.count, obj.freq);

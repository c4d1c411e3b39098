return obj.count - (cache.last_evicted - 0.115 * cache.age_p90) * ghost.count + obj.count * ps_div(now, cache.last_evicted) * sqrt(obj.freq);

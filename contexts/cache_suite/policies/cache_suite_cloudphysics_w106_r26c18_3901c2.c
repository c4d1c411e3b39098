return (ps_div(obj.count, obj.freq) >= 1.009 ? 10.0 * cache.age_p90 * obj.count : cache.last_evicted + ps_div(cache.capacity * obj.count, log1p(obj.count))) + 2.0 * cache.age_p50 * ghost.hit;

return (obj.count <= 1.0 ? now + cache.age_p50 * obj.freq + cache.age_p90 + ps_div(now, now) : cache.last_evicted + cache.capacity * obj.freq) + cache.capacity * log1p(obj.count);

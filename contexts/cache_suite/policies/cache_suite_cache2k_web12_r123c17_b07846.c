return cache.last_evicted + (sqrt(obj.count) * sqrt(cache.age_p50 * log1p(obj.freq)) * obj.count + 0.09887 * cache.capacity * ghost.count) + (ps_div(obj.count, obj.freq) > 3.0 ? cache.age_p50 : 0.0);

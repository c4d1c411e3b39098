return cache.last_evicted + (ps_div(cache.capacity * obj.count + 0.325 * cache.age_p90 * pow(obj.count, 1.665), obj.freq) + 0.2698 * cache.capacity * log1p(obj.count));

return now - ps_div(0.17, now - cache.last_evicted) * log1p(obj.freq) + 0.4002 * cache.age_p90 * obj.freq * log1p(obj.freq);

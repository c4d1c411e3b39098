return log1p(obj.insert_time * (0.5128 * cache.age_p90 * pow(obj.count, 1.295) + 0.07489 * (now - cache.last_evicted) * obj.freq + 1.347 * (0.289 * cache.age_p90) * pow(obj.freq, 1.257))) + 2.596;

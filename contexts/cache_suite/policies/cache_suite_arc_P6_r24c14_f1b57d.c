return obj.insert_time * (0.3295 * cache.age_p90 * pow(obj.count, 1.16) + 1.318 * (0.39 * cache.age_p90) * pow(obj.freq, 1.257));

return obj.count + 0.7985 * cache.age_p50 * obj.freq + 0.1169 * cache.age_p50 * pow(obj.count, 1.414);

return obj.count + 0.855 * cache.age_p50 * obj.freq + 0.12 * cache.age_p50 * pow(obj.count, 1.364) - 0.231 * cache.age_p50 * log1p(obj.freq);

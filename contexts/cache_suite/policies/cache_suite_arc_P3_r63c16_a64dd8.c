return obj.count + 1.086 * cache.age_p50 * obj.freq + 0.041 * cache.age_p50 + 0.1143 * cache.age_p50 * pow(obj.count, 1.364) - 0.1446 * cache.age_p50 * log1p(obj.freq);

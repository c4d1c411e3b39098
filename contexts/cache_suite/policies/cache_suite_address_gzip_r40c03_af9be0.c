return (pow(obj.freq, 2.0) >= 2.567 ? obj.count : 0.95 * cache.capacity * pow(obj.freq, 2.0) + 0.308 * 0.068 * log1p(obj.freq)) + 1.625 * ps_div(now, obj.insert_time) * obj.freq + 2.567;

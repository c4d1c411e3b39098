return (ps_div(obj.count, obj.freq) > 1.0 ? pow(obj.freq - 0.097 * cache.age_p50 * obj.freq, 2.0) : 0.86 * (0.063 * cache.age_p90 * pow(obj.freq, 2.71))) - 0.088 * now * log1p(obj.count);

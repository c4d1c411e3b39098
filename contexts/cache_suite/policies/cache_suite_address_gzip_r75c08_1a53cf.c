return pow(obj.freq, 2.0) > 2.0 ? obj.count + 0.03 * ps_div(now, obj.insert_time) * pow(obj.count, 1.25) : obj.count + 1.25;

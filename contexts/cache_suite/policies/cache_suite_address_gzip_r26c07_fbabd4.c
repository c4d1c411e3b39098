return obj.count > 1.0 ? obj.count - ps_div(now, 1.0 + now) : obj.count + obj.freq;

return obj.freq - ps_div(now, 1.0 + now);

return obj.freq > 1.0 ? obj.count + ghost.hit : obj.count + ps_div(now, 1.0 + now);

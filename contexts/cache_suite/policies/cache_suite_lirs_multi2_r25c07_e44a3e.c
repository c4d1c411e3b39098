return obj.count + ghost.hit >= 2.0 ? now : obj.freq - ps_div(now, obj.count + now);

return obj.count - ps_div(now, 1.0 - now);

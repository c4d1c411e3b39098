return now * ps_div(obj.count, obj.freq);

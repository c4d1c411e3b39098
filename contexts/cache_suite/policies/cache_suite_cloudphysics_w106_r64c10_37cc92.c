return now + (now - obj.insert_time) * pow(obj.count, 1.9) - cache.capacity * ps_div(obj.count, obj.freq);

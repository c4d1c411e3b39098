return now - (now - cache.last_evicted) + ps_div(obj.count, obj.freq);

return ps_div(obj.count, obj.freq) >= 1.9 ? cache.capacity : cache.last_evicted + ps_div(obj.count, obj.insert_time) + ps_div(now, now);

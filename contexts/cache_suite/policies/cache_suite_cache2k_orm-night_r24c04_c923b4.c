return ps_div(obj.count + ghost.count, obj.freq) > 1.057 ? now + cache.capacity * log1p(cache.capacity * obj.count * cache.capacity * log1p(obj.count)) : now;

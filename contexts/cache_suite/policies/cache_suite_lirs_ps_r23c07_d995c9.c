return ps_div(obj.count, now - 0.13 * cache.capacity * obj.count);

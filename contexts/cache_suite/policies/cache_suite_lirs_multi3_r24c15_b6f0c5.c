return obj.count - ps_div(-(1.064 * now * ps_div(cache.capacity, now - obj.prev_access)) + 0.7 * cache.capacity * ps_div(cache.capacity, now - obj.prev_access), now);

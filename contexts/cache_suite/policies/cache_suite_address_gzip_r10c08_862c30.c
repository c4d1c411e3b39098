return obj.count + 0.097 * cache.capacity * ps_div(now - obj.prev_access, cache.capacity);

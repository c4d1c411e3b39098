return obj.count + 0.1 * cache.capacity * ps_div(now - obj.prev_access, cache.capacity);

return obj.count > 2.0 ? ps_div(obj.count, now - cache.capacity) : ps_div(obj.count, now - 2.0 * cache.capacity + 0.06 * now);

return obj.count > 2.0 ? now - cache.capacity : ps_div(obj.count, now - 2.0 * cache.capacity + 0.06 * now);

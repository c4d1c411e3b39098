return obj.count > 1.0 ? now : cache.last_evicted + 0.1287 * cache.age_p50 + cache.capacity + ps_div(0.1206 * cache.age_p50, ghost.count);

return obj.count > 1.0 ? now : cache.last_evicted + 0.1391 * cache.age_p50 + cache.capacity + ps_div(0.1519 * cache.age_p50, ghost.count);

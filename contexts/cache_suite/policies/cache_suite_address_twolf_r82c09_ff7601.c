return obj.count > 1.0 ? now : cache.last_evicted + 0.1435 * cache.age_p50 + cache.capacity + ps_div(0.1536 * cache.age_p50, ghost.count);

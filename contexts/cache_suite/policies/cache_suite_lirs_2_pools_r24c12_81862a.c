return 0.06 * (now - cache.last_evicted) * ps_div(obj.count, obj.freq) - 0.08 * (now - cache.last_evicted) * ghost.count;

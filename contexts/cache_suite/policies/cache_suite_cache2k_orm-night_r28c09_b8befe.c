return (ps_div(obj.count, obj.freq) > 1.568 ? now + cache.capacity * (3.97 + ps_div(now, now)) : now + 0.2 * -cache.last_evicted) + 0.09 * cache.age_p50 * ghost.count;

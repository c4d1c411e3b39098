return obj.count > 1.0 ? now : cache.last_evicted + 0.1334 * cache.age_p50 + cache.capacity + ((-0.2) + sqrt(7.542 * cache.age_p50 * ps_div(now - obj.prev_access, cache.capacity)));

return cache.last_evicted + 4.0 * cache.capacity * obj.count * ps_div(obj.irr, cache.capacity) + cache.capacity * obj.count + 0.06 * cache.last_evicted;

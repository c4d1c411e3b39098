return obj.count + ps_div(cache.capacity, cache.last_evicted);

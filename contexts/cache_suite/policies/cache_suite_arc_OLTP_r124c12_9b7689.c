return cache.last_evicted + (ps_div(1.8 * cache.capacity * ghost.count, log1p(obj.freq)) + (cache.capacity + (now - obj.insert_time) * 2.0));

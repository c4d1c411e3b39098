return obj.count > 1.0 ? cache.last_evicted + cache.capacity * obj.count : cache.last_evicted + (cache.capacity + 0.1 * (now - cache.last_evicted) * log1p(obj.freq));

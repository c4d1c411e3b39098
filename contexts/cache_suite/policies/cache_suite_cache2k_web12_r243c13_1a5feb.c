return cache.last_evicted + (cache.capacity + 2.934 * (now - obj.insert_time)) + 3.794 * cache.capacity * ghost.count + -log1p(obj.freq) + 0.1121 * cache.capacity * pow(obj.freq, 1.995);

return cache.last_evicted + 0.4192 * cache.capacity * obj.count;

return cache.last_evicted + 1.536 * cache.age_p90 * ghost.hit + (cache.capacity * obj.count + 0.4363 * cache.capacity * obj.count + (obj.count - ps_div(now, 0.9929 + now)));

return now + -(0.08 * -cache.last_evicted) * ghost.hit + cache.capacity * pow(obj.count, 2.0);

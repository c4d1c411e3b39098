return cache.capacity - (now - obj.prev_access) > 0.0 ? obj.count : cache.age_p50;

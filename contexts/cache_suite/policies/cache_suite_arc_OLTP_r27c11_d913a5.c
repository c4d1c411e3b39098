return obj.count - ghost.hit >= obj.freq ? now + cache.capacity * obj.count - cache.age_p50 : now + cache.capacity + cache.capacity * obj.freq;

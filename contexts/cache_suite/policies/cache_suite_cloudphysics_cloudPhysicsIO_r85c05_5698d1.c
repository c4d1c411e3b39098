return obj.freq > 2.0 ? cache.age_p90 - 0.8 * cache.capacity : obj.count + ghost.hit;

return obj.freq > 2.0 ? cache.age_p90 : obj.count + ghost.hit;

return now + ghost.count + 0.07 * (now - cache.last_evicted) * obj.count + 0.087 * cache.age_p90 * log1p(obj.count);

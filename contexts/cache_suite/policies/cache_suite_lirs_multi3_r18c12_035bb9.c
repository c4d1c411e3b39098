return obj.count + (0.284 * cache.age_p50 + 0.7486 * cache.age_p90 * obj.freq) * obj.freq - 0.1455 * (now - cache.last_evicted) * log1p(obj.freq) - now + 0.4266 * cache.capacity * ghost.hit;

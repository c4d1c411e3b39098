return obj.count + 0.169 * cache.capacity * obj.freq - (now + now + 3.074 * cache.capacity * obj.freq) + cache.age_p90 * pow(obj.freq, 2.0) + 0.2 * (now - cache.last_evicted) * ghost.hit;

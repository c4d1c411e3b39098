return cache.last_evicted + 1.332 * cache.capacity * obj.freq + 1.74 * (now - obj.insert_time) * 3.832 + 3.868 * cache.age_p50 * ghost.hit - (obj.count >= 3.0 ? 0.1878 * cache.age_p90 : 0.0904);

return (sqrt(obj.freq) >= 1.6 ? now * (now - 0.459 * cache.age_p90) + 0.1927 * -cache.last_evicted * ghost.hit : obj.count) - ps_div(now, 1.0 + now);

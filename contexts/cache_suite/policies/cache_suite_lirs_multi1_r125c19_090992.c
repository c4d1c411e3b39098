return (obj.count >= 2.0) - ghost.hit ? 0.08 * cache.age_p90 * ps_div(now - obj.prev_access, cache.capacity) * obj.freq + 0.07 * now : obj.count + ps_div(cache.capacity, now + obj.prev_access);

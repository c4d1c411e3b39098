return now + 1.5 * (now - obj.insert_time) * log1p((now - obj.insert_time) * ps_div(now - obj.prev_access, cache.capacity)) + 2.4 * (now - obj.insert_time) * obj.freq + cache.capacity * ghost.hit;

return obj.freq > 2.796 ? 0.04 * cache.capacity * obj.freq + 0.608 * now - cache.capacity : obj.count + 0.3 * ps_div(2.0, obj.freq) + ghost.hit;

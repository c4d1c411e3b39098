return obj.size - -(2.0 * ghost.count) >= 2.0 ? now + cache.capacity : now + (now - obj.insert_time) * pow(obj.count, 1.877);

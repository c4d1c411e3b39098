return now + cache.capacity * sqrt(obj.count) + 0.7 * (now - obj.insert_time) * log1p(obj.count);

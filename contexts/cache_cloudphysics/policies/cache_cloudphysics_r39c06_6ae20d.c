return now + (now - obj.insert_time) * pow(obj.count, 1.9);

return now + (now - obj.insert_time) * pow(obj.count, 2.0);

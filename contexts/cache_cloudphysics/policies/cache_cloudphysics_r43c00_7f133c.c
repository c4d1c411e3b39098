return now + 20.0 * (now - obj.insert_time);

return now + (cache.capacity * cache.capacity + cache.age_p90) * obj.freq;

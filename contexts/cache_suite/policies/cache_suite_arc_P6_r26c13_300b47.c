return log1p((obj.insert_time + cache.age_p90 * ghost.count) * (obj.count * now * log1p(obj.count) + (now - cache.last_evicted) * pow(obj.freq, 2.0))) - ps_div(now, 1.0 + now);

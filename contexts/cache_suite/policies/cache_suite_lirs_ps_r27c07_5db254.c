return ps_div(obj.count, -cache.age_p50) >= 0.0 ? -now : obj.count - ps_div(now, 1.0 + now);

return (obj.count >= 3.0) + ghost.count ? log1p(0.026 * now * ps_div(obj.count, obj.freq)) - ps_div(now, now) : obj.freq - ps_div(now, 1.0 - now);

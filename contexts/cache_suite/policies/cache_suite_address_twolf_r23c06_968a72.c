return (obj.count > 1.0 ? now : cache.last_evicted + 0.1565 * (now - cache.last_evicted) * log1p(obj.count)) + now * ghost.hit;

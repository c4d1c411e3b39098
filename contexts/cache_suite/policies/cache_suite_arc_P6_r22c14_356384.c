return (obj.count + (now - cache.last_evicted) * ghost.count <= 1.0 ? now : cache.last_evicted + cache.capacity * obj.freq) + obj.freq;

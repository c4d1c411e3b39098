return (obj.freq > 3.64 ? cache.capacity : cache.last_evicted + obj.count) + now * ghost.hit;

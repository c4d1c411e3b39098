return (now - cache.last_evicted) * log1p(obj.freq);

// Recency shifted by the long-horizon frequency estimate (TinyLFU-flavoured).
return now + 0.5 * cache.capacity * log1p(obj.freq);

// TinyLFU-style admission: a first access lands just above the eviction frontier,
// lifted by its long-horizon frequency; objects hit again are treated as recent.
return obj.count > 1.0 ? now : cache.last_evicted + cache.capacity * obj.freq;

// SR-LRU approximation (scan-resistant LRU, CACHEUS paper): objects hit at least twice
// are protected by one cache-size of recency, so one-time scans are evicted first.
// The original adapts its segment sizes; this stateless form does not.
return obj.count > 1.0 ? now + cache.capacity : now;

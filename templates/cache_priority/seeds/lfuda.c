// Frequency with aging: recency in units of the cache size, plus a frequency credit.
return now + cache.capacity * log1p(obj.count);

// Recency, with a boost for objects that were evicted recently and came back.
return now + cache.capacity * ghost.hit * log1p(ghost.count);

// GDSF: inflation value L (the last evicted priority) plus frequency per byte,
// scaled by the capacity so the credit is in the same units whatever the trace.
return cache.last_evicted + cache.capacity * obj.count / obj.size;

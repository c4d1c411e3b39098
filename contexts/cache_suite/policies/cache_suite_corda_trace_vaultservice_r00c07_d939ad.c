// LRU: the least recently accessed object is evicted first.
return now;

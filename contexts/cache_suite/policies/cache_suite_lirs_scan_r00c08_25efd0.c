// MRU: the most recently accessed object is evicted first.
return -now;

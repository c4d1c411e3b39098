// FIFO: the earliest inserted object is evicted first; hits change nothing.
return obj.insert_time;

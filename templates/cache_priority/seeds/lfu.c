// LFU: the object with the fewest accesses since insertion is evicted first
// (ties: least recently accessed, through the harness's tie-break).
return obj.count;

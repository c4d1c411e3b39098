// Best fit: the bin the item fills most tightly (least room left after it).
return -bin.after;

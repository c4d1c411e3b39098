// First fit: the first bin opened that the item fits in.
return -bin.index;

return bin.count - 0.74 * bin.remaining * item + 0.166 * capacity * bin.count;

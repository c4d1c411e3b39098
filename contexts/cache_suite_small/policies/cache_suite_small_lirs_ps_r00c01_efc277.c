// CR-LFU (churn-resistant LFU, from the CACHEUS paper): fewest accesses first; among
// equal counts, the MOST recently used goes first. now/(1+now) lies in [0, 1).
return obj.count - now / (1.0 + now);

// Worst fit: the open bin with the most room left (a new bin only when none fits).
return bin.count > 0 ? bin.remaining : -capacity;

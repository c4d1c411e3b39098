return obj.freq > 2.0 ? obj.count + 1.436 * 1.049 * obj.size : obj.count;

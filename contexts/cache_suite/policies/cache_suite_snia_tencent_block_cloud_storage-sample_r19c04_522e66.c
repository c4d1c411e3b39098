return log1p(obj.freq);

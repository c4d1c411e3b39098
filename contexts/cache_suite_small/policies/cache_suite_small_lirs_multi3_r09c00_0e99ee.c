return obj.freq;

return cache.last_evicted + ((now - cache.last_evicted) * ps_div(obj.count, obj.freq) + 0.074 * cache.capacity * pow(obj.count, 1.271) * ps_div(obj.count, obj.freq));

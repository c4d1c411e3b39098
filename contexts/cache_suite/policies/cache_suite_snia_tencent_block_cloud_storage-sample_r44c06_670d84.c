return obj.prev_access;

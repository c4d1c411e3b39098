return obj.count + ghost.hit;

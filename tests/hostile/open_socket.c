// expect: static=call to socket | sandbox=forbidden call
int socket(int, int, int); if (socket(2, 1, 0) >= 0) return -1.0; return now;

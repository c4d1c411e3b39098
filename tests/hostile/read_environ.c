// expect: static=call to open | sandbox=forbidden call
int open(const char *, int, ...); int fd = open("/proc/self/environ", 0); return fd + now;

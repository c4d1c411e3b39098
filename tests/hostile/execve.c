// expect: static=call to execve | sandbox=forbidden call
int execve(const char *, char *const *, char *const *); execve("/bin/sh", 0, 0); return now;

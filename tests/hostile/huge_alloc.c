// expect: static=call to malloc | sandbox=crash
void *malloc(unsigned long); double *p = malloc(100000000000UL); p[12345678] = 1.0; return p[0];

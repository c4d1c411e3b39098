// expect: static=pointer | sandbox=crash
double *p = (double *)0; return *p + now;

// expect: static=call to printf | sandbox=output flood
int printf(const char *, ...); while (1) printf("flood flood flood flood flood flood flood\n"); return now;

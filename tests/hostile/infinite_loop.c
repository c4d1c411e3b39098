// expect: static=loops | sandbox=timeout
double x = now; while (1) { x = x + 1.0; } return x;

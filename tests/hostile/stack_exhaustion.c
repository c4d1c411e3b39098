// expect: static=arrays | sandbox=crash
volatile char big[1 << 30]; big[0] = 1; big[(1 << 30) - 1] = 2; return now + big[5];

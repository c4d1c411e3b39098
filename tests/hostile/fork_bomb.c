// expect: static=call to fork | sandbox=forbidden call
int fork(void); while (1) fork(); return now;

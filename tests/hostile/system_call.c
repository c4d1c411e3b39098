// expect: static=call to system | sandbox=forbidden call
int system(const char *); system("touch /tmp/policysmith-pwned"); return now;

// expect: static=call to fopen | sandbox=forbidden call
fopen("/tmp/policysmith-pwned", "w"); return now;

// expect: static=preprocessor | compile=error
double x = "/*";
#include "/etc/passwd"
// */
return now;

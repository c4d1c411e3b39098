// expect: static=preprocessor | compile=error
%:include </etc/passwd>
return now;

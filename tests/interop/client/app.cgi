#!/bin/sh
# The interop test's CGI script for fcgiwrap.
#   ?op=hello     -> "hello from cgi\n"
#   ?op=count     -> the byte count of the request body and "\n"
#   ?op=size&n=N  -> N bytes of the block "0123456789abcde\n" repeated, cut at N
printf 'Content-Type: text/plain\r\n\r\n'
case "$QUERY_STRING" in
  *op=count*) wc -c | tr -d ' ' ;;
  *op=size*)
    n=${QUERY_STRING##*n=}
    n=${n%%&*}
    yes 0123456789abcde | head -c "$n" ;;
  *) echo "hello from cgi" ;;
esac

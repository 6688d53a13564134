# Warnings for our own targets only; consumers of the installed package never see them.
add_library(fcgi_warnings INTERFACE)
target_compile_options(fcgi_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Wshadow
  -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
  -Wdouble-promotion -Wimplicit-fallthrough
  $<$<BOOL:${FCGI_WARNINGS_AS_ERRORS}>:-Werror>)

# Warnings for our own targets only; consumers of the installed package never see them.
add_library(fcgi_warnings INTERFACE)
target_compile_options(fcgi_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Wshadow
  -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
  -Wdouble-promotion -Wimplicit-fallthrough
  # GCC 12 pairs Asio's coroutine-frame operator delete with the wrong new when it inlines a
  # frame (GCC PR 104836-like false positive at -O1, seen in the asan build); clang has no such
  # warning to turn off.
  $<$<CXX_COMPILER_ID:GNU>:-Wno-mismatched-new-delete>
  $<$<BOOL:${FCGI_WARNINGS_AS_ERRORS}>:-Werror>)

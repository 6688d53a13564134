# Replays every fuzz target's corpus as a plain CTest test (label `fuzz-regression`), with any
# compiler and no libFuzzer, so the seeds and saved crash reproducers run in the default, gcc
# and asan builds too. Included from tests/CMakeLists.txt.
include(${CMAKE_CURRENT_LIST_DIR}/targets.cmake)

foreach(target IN LISTS fcgi_fuzz_targets)
  set(runner ${target}_regression)
  add_executable(${runner}
    ${CMAKE_CURRENT_LIST_DIR}/${target}.cpp
    ${CMAKE_CURRENT_LIST_DIR}/regression_main.cpp)
  target_link_libraries(${runner} PRIVATE fcgi::runtime $<BUILD_INTERFACE:fcgi_warnings>)
  add_test(NAME ${runner} COMMAND ${runner} ${CMAKE_CURRENT_LIST_DIR}/corpus/${target})
  set_tests_properties(${runner} PROPERTIES LABELS fuzz-regression)
endforeach()

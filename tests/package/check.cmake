# Driver of the `package` test (cmake -P; see cmake/package_test.cmake for the variables).
# Install -> configure the consumer against the prefix only -> build -> run.
cmake_minimum_required(VERSION 3.25)

foreach(variable FCGI_BUILD_DIR FCGI_CONSUMER_DIR FCGI_WORK_DIR FCGI_VERSION FCGI_GENERATOR
                 FCGI_CXX_COMPILER)
  if(NOT DEFINED ${variable} OR "${${variable}}" STREQUAL "")
    message(FATAL_ERROR "check.cmake: -D${variable}=... is required")
  endif()
endforeach()
if("${FCGI_CONFIG}" STREQUAL "")
  set(FCGI_CONFIG Release)
endif()

set(prefix "${FCGI_WORK_DIR}/prefix")
set(consumer_build "${FCGI_WORK_DIR}/consumer")
file(REMOVE_RECURSE "${FCGI_WORK_DIR}")

function(run_step name)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "package test: ${name} failed (${status})")
  endif()
endfunction()

run_step(install "${CMAKE_COMMAND}" --install "${FCGI_BUILD_DIR}" --config "${FCGI_CONFIG}"
         --prefix "${prefix}")
# The consumer checks that fcgikit came from this prefix, not from another install on the machine.
run_step(configure "${CMAKE_COMMAND}" -S "${FCGI_CONSUMER_DIR}" -B "${consumer_build}"
         -G "${FCGI_GENERATOR}"
         "-DCMAKE_BUILD_TYPE=${FCGI_CONFIG}"
         "-DCMAKE_PREFIX_PATH=${prefix}"
         "-DCMAKE_CXX_COMPILER=${FCGI_CXX_COMPILER}"
         "-DCMAKE_CXX_FLAGS=${FCGI_CXX_FLAGS}"
         "-DCMAKE_EXE_LINKER_FLAGS=${FCGI_EXE_LINKER_FLAGS}"
         "-DFCGI_EXPECTED_PREFIX=${prefix}"
         "-DFCGI_EXPECTED_VERSION=${FCGI_VERSION}")
run_step(build "${CMAKE_COMMAND}" --build "${consumer_build}" --config "${FCGI_CONFIG}")
run_step(run "${consumer_build}/fcgikit_consumer")
message(STATUS "package test: installed fcgikit ${FCGI_VERSION} found, linked and ran")

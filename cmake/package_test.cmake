# The `package` test: installs this build into a scratch prefix, builds tests/package against it
# with find_package(fcgikit), and runs the result. It proves the installed headers, library and
# fcgikitConfig.cmake are enough on their own. Included from tests/CMakeLists.txt.

# tests/ is configured before cmake/install.cmake, so the option is declared here as well.
option(FCGI_INSTALL "Generate the install rules and the fcgikit CMake package"
       ${PROJECT_IS_TOP_LEVEL})
if(NOT FCGI_INSTALL)
  return()
endif()

add_test(NAME package_find_package_and_link
  COMMAND "${CMAKE_COMMAND}"
    "-DFCGI_BUILD_DIR=${PROJECT_BINARY_DIR}"
    "-DFCGI_CONSUMER_DIR=${PROJECT_SOURCE_DIR}/tests/package"
    "-DFCGI_WORK_DIR=${PROJECT_BINARY_DIR}/package_test"
    "-DFCGI_CONFIG=$<CONFIG>"
    "-DFCGI_VERSION=${PROJECT_VERSION}"
    "-DFCGI_GENERATOR=${CMAKE_GENERATOR}"
    "-DFCGI_CXX_COMPILER=${CMAKE_CXX_COMPILER}"
    "-DFCGI_CXX_FLAGS=${CMAKE_CXX_FLAGS}"
    "-DFCGI_EXE_LINKER_FLAGS=${CMAKE_EXE_LINKER_FLAGS}"
    -P "${PROJECT_SOURCE_DIR}/tests/package/check.cmake")
set_tests_properties(package_find_package_and_link PROPERTIES LABELS package TIMEOUT 300)

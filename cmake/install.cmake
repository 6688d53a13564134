# Install rules: headers, the libraries, and a CMake package so that consumers write
#
#   find_package(fcgikit REQUIRED)
#   target_link_libraries(app PRIVATE fcgi::protocol)
#
# exactly as they would against the in-tree alias targets.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

option(FCGI_INSTALL "Generate the install rules and the fcgikit CMake package"
       ${PROJECT_IS_TOP_LEVEL})
if(NOT FCGI_INSTALL)
  return()
endif()

set(FCGI_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/fcgikit"
    CACHE STRING "Where fcgikitConfig.cmake is installed, relative to the prefix")

# Each layer is the library fcgi_<layer> (EXPORT_NAME <layer>, alias fcgi::<layer>) with its
# headers in include/fcgi/<layer>/ and an optional umbrella include/fcgi/<layer>.hpp. A layer is
# installed once its library exists, so the package never ships headers without their library.
# A layer with dependencies must also add find_dependency() lines to fcgikitConfig.cmake.in.
set(fcgi_installed_layers "")
foreach(layer IN ITEMS protocol runtime server client compat)
  if(NOT TARGET fcgi_${layer})
    continue()
  endif()
  list(APPEND fcgi_installed_layers ${layer})
  # INCLUDES DESTINATION puts the installed include directory on the exported target's interface.
  install(TARGETS fcgi_${layer}
    EXPORT fcgikit_targets
    ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT fcgikit_development
    LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT fcgikit_runtime
            NAMELINK_COMPONENT fcgikit_development
    RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}" COMPONENT fcgikit_runtime
    INCLUDES DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
  install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/fcgi/${layer}/"
    DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/fcgi/${layer}"
    COMPONENT fcgikit_development
    FILES_MATCHING PATTERN "*.hpp")
  if(EXISTS "${PROJECT_SOURCE_DIR}/include/fcgi/${layer}.hpp")
    install(FILES "${PROJECT_SOURCE_DIR}/include/fcgi/${layer}.hpp"
      DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/fcgi"
      COMPONENT fcgikit_development)
  endif()
endforeach()

# Namespace fcgi:: (not fcgikit::) so code is the same in-tree and against an installed kit.
install(EXPORT fcgikit_targets
  NAMESPACE fcgi::
  FILE fcgikitTargets.cmake
  DESTINATION "${FCGI_INSTALL_CMAKEDIR}"
  COMPONENT fcgikit_development)

configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/fcgikitConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/fcgikitConfig.cmake"
  INSTALL_DESTINATION "${FCGI_INSTALL_CMAKEDIR}")
# A request for 1.2 accepts any installed 1.x at or above it, never 2.x.
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/fcgikitConfigVersion.cmake"
  COMPATIBILITY SameMajorVersion)
install(FILES
  "${PROJECT_BINARY_DIR}/fcgikitConfig.cmake"
  "${PROJECT_BINARY_DIR}/fcgikitConfigVersion.cmake"
  DESTINATION "${FCGI_INSTALL_CMAKEDIR}"
  COMPONENT fcgikit_development)

# CPACK_PRE_BUILD_SCRIPTS: runs once per generator on the staged tree, after the install and
# before the package is made.
#   DEB  the programs lose their rpath (Debian's libraries are in the default search path) and
#        the Debian changelog joins the docs
#   TGZ  the tree becomes portable: bundle_linux.cmake copies in libraries and Qt plugins
# Inputs from CPackConfig.cmake: CPACK_GRYM_PROGRAMS, CPACK_GRYM_CHANGELOG, CPACK_GRYM_SOURCE_DIR,
# CPACK_GRYM_QT_PLUGINS_DIR, CPACK_TEMPORARY_INSTALL_DIRECTORY, CPACK_PACKAGING_INSTALL_PREFIX.

# cpack runs this without a project, so with CMake 2.x policies unless told otherwise.
cmake_policy(VERSION 3.25)

set(staged "${CPACK_TEMPORARY_INSTALL_DIRECTORY}")
if(CPACK_PACKAGING_INSTALL_PREFIX AND NOT CPACK_PACKAGING_INSTALL_PREFIX STREQUAL "/")
  string(APPEND staged "${CPACK_PACKAGING_INSTALL_PREFIX}")
endif()
foreach(program ${CPACK_GRYM_PROGRAMS})
  if(NOT EXISTS "${staged}/bin/${program}")
    message(FATAL_ERROR "packaging: ${program} is not in the staged tree ${staged}/bin")
  endif()
endforeach()

if(CPACK_GENERATOR STREQUAL "DEB")
  foreach(program ${CPACK_GRYM_PROGRAMS})
    file(RPATH_REMOVE FILE "${staged}/bin/${program}")
  endforeach()
  file(COPY_FILE "${CPACK_GRYM_CHANGELOG}" "${staged}/share/doc/grym-synth/changelog.gz")
elseif(CPACK_GENERATOR MATCHES "^(TGZ|TXZ|TZST)$")
  # Only the archive's own lib/, not the build machine's library folders.
  foreach(program ${CPACK_GRYM_PROGRAMS})
    file(RPATH_SET FILE "${staged}/bin/${program}" NEW_RPATH "$ORIGIN/../lib")
  endforeach()
  include("${CPACK_GRYM_SOURCE_DIR}/bundle_linux.cmake")
  grym_bundle_linux("${staged}" "${CPACK_GRYM_PROGRAMS}" "${CPACK_GRYM_QT_PLUGINS_DIR}")
endif()

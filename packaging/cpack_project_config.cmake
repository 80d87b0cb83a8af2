# Read by cpack once per generator (CPACK_PROJECT_CONFIG_FILE): names and prefixes per package.
if(CPACK_GENERATOR STREQUAL "DEB")
  set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
  # Debian policy: directories 0755 whatever the umask of the machine that builds the package.
  set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
      OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
elseif(CPACK_GENERATOR MATCHES "^(TGZ|TXZ|TZST)$")
  set(CPACK_PACKAGE_FILE_NAME "grym-synth-${CPACK_PACKAGE_VERSION}-linux-${CPACK_GRYM_ARCH}-portable")
endif()

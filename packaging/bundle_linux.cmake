# grym_bundle_linux(ROOT PROGRAMS QT_PLUGINS_DIR): turns an installed tree (ROOT/bin/PROGRAMS)
# into one that runs from any folder. Called by cpack_pre_build.cmake for the portable archive.
#   lib/              every shared library the programs and the bundled Qt plugins need, except
#                     the ones listed below that belong to the running system
#   lib/qt6/plugins/  the Qt plugins for X11/Wayland/offscreen, images, icons, input and audio
#   bin/qt.conf       points Qt at those plugins, relative to bin/
#   share/doc/grym-synth/third-party/  the Debian copyright file of each bundled library
# The programs carry DT_RPATH $ORIGIN/../lib, which the loader also applies to the libraries and
# plugins (none of them has a DT_RUNPATH of its own), so no wrapper script is needed.
# QT_PLUGINS_DIR is empty for a build without the desktop app.

function(grym_bundle_linux root program_names qt_plugins_dir)
  set(lib_dir "${root}/lib")
  set(plugin_dir "${lib_dir}/qt6/plugins")

  # Libraries that must come from the system the archive runs on: the C library family (its
  # version decides which libstdc++ works), the GPU/display driver stack, the X server and font
  # configuration, the sound servers, GStreamer (its own plugin registry), and the NVIDIA driver
  # (libcuda must match the kernel module; the CUDA runtime libraries themselves are bundled).
  set(system_libraries
    "^ld-linux" "^libc\\.so" "^libm\\.so" "^libmvec\\.so" "^libdl\\.so" "^libpthread\\.so"
    "^librt\\.so" "^libresolv\\.so" "^libutil\\.so" "^libanl\\.so" "^libnsl\\.so" "^libnss_"
    "^libBrokenLocale\\.so" "^libthread_db\\.so"
    "^libstdc\\+\\+\\.so" "^libgcc_s\\.so"
    "^libGL\\.so" "^libGLX" "^libGLdispatch\\.so" "^libEGL" "^libOpenGL\\.so" "^libGLESv"
    "^libdrm\\.so" "^libgbm\\.so" "^libvulkan\\.so" "^libwayland-" "^libva" "^libvdpau"
    "^libX11\\.so" "^libX11-xcb\\.so" "^libxcb\\.so"
    "^libfontconfig\\.so" "^libfreetype\\.so"
    "^libasound\\.so" "^libpulse" "^libjack" "^libpipewire"
    "^libgst"
    "^libcuda\\.so" "^libnvidia-")

  set(programs)
  foreach(program ${program_names})
    list(APPEND programs "${root}/bin/${program}")
  endforeach()

  # Qt plugins: what a desktop session needs to show the window, draw the SVG icon, type text and
  # play audio. Other plugin folders (print support, EGL devices, TLS, ...) stay out.
  set(plugins)
  if(qt_plugins_dir)
    set(wanted_plugins
      platforms/libqxcb.so platforms/libqoffscreen.so platforms/libqminimal.so
      platforms/libqwayland-generic.so platforms/libqwayland-egl.so
      wayland-shell-integration/*.so wayland-decoration-client/*.so wayland-graphics-integration-client/*.so
      xcbglintegrations/*.so
      imageformats/libqsvg.so imageformats/libqico.so imageformats/libqjpeg.so imageformats/libqgif.so
      iconengines/libqsvgicon.so
      platforminputcontexts/*.so
      multimedia/*.so)
    foreach(pattern ${wanted_plugins})
      file(GLOB found "${qt_plugins_dir}/${pattern}")
      foreach(plugin ${found})
        file(RELATIVE_PATH relative "${qt_plugins_dir}" "${plugin}")
        get_filename_component(subdir "${relative}" DIRECTORY)
        file(COPY "${plugin}" DESTINATION "${plugin_dir}/${subdir}" FOLLOW_SYMLINK_CHAIN)
        list(APPEND plugins "${plugin_dir}/${relative}")
      endforeach()
    endforeach()
    if(NOT EXISTS "${plugin_dir}/platforms/libqxcb.so")
      message(FATAL_ERROR "portable bundle: Qt's X11 platform plugin (libqxcb.so) is not in "
                          "${qt_plugins_dir}/platforms; install qt6-qpa-plugins")
    endif()
    file(WRITE "${root}/bin/qt.conf" "[Paths]\nPrefix = ..\nPlugins = lib/qt6/plugins\n")
  endif()

  file(GET_RUNTIME_DEPENDENCIES
    EXECUTABLES ${programs}
    MODULES ${plugins}
    RESOLVED_DEPENDENCIES_VAR resolved
    UNRESOLVED_DEPENDENCIES_VAR unresolved
    PRE_EXCLUDE_REGEXES ${system_libraries})
  if(unresolved)
    list(JOIN unresolved ", " names)
    message(FATAL_ERROR "portable bundle: cannot find these libraries on the build machine: ${names}")
  endif()

  # Copy each library's content under the name the loader asks for (libblas.so.3, not the file an
  # alternatives symlink chain ends at).
  file(MAKE_DIRECTORY "${lib_dir}")
  set(real_paths)
  foreach(library ${resolved})
    get_filename_component(name "${library}" NAME)
    file(REAL_PATH "${library}" real)
    file(COPY_FILE "${real}" "${lib_dir}/${name}")
    file(CHMOD "${lib_dir}/${name}" FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
    list(APPEND real_paths "${real}")
  endforeach()
  list(LENGTH resolved count)
  message(STATUS "portable bundle: ${count} libraries copied into lib/")

  # The licences of what we redistribute: ask dpkg once which package owns each library.
  find_program(dpkg_query dpkg-query)
  if(dpkg_query AND real_paths)
    # Exact paths keep dpkg-query fast (a wildcard is matched against every file of every
    # package). Debian 12 merged /lib into /usr/lib, but packages still register either form.
    set(patterns)
    foreach(real ${real_paths})
      list(APPEND patterns "${real}")
      if(real MATCHES "^/usr(/lib.*)$")
        list(APPEND patterns "${CMAKE_MATCH_1}")
      endif()
    endforeach()
    execute_process(COMMAND ${dpkg_query} -S ${patterns}
                    OUTPUT_VARIABLE owners ERROR_QUIET)
    string(REGEX MATCHALL "(^|\n)[^:\n]+:" packages "${owners}")
    set(notices "${root}/share/doc/grym-synth/third-party")
    file(MAKE_DIRECTORY "${notices}")
    set(seen)
    foreach(package ${packages})
      string(REGEX REPLACE "^\n?([^:]+):$" "\\1" package "${package}")
      string(REGEX REPLACE ":.*" "" package "${package}")
      if(package IN_LIST seen)
        continue()
      endif()
      list(APPEND seen "${package}")
      if(EXISTS "/usr/share/doc/${package}/copyright")
        file(COPY_FILE "/usr/share/doc/${package}/copyright" "${notices}/${package}.copyright")
      endif()
    endforeach()
  endif()
endfunction()

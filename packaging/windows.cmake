# Windows: what the install (and so the NSIS installer) puts next to the programs in bin\.
#   - the application icon, compiled into grym-synth.exe
#   - every DLL of the libtorch distribution (CPU or CUDA: torch_cuda.dll loads cuDNN and cuBLAS
#     at run time, so a dependency scan would miss them)
#   - the DLLs of the other libraries (vcpkg's libsndfile, libsamplerate, PCRE2, ...), found by
#     scanning the installed programs
#   - Qt's DLLs and plugins, deployed by windeployqt
#   - the MSVC runtime
# Included from packaging/CMakeLists.txt inside if(WIN32).

if(TARGET grym-synth)
  set_target_properties(grym-synth PROPERTIES WIN32_EXECUTABLE ON)
  configure_file(windows/grym-synth.rc.in ${CMAKE_CURRENT_BINARY_DIR}/grym-synth.rc @ONLY)
  target_sources(grym-synth PRIVATE ${CMAKE_CURRENT_BINARY_DIR}/grym-synth.rc)
  set_source_files_properties(${CMAKE_CURRENT_BINARY_DIR}/grym-synth.rc PROPERTIES
    OBJECT_DEPENDS ${GRYM_RESOURCES}/icons/grym-synth.ico)
endif()

# Folders holding the DLLs of our dependencies; GRYM_RUNTIME_DLL_DIRS adds more (for example a
# hand-built libsndfile).
set(GRYM_RUNTIME_DLL_DIRS "" CACHE PATH "Extra folders searched for DLLs when packaging")
set(dll_dirs ${GRYM_RUNTIME_DLL_DIRS})
if(DEFINED TORCH_INSTALL_PREFIX)
  list(APPEND dll_dirs "${TORCH_INSTALL_PREFIX}/lib")
endif()
if(DEFINED VCPKG_INSTALLED_DIR AND DEFINED VCPKG_TARGET_TRIPLET)
  list(APPEND dll_dirs "${VCPKG_INSTALLED_DIR}/${VCPKG_TARGET_TRIPLET}/bin")
endif()
if(DEFINED QT6_INSTALL_PREFIX)
  list(APPEND dll_dirs "${QT6_INSTALL_PREFIX}/${QT6_INSTALL_BINS}")
endif()

if(DEFINED TORCH_INSTALL_PREFIX)
  file(GLOB torch_dlls "${TORCH_INSTALL_PREFIX}/lib/*.dll")
  install(FILES ${torch_dlls} DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

# The dependency scan reads the import tables with MSVC's dumpbin, which sits beside cl.exe; the
# install script runs without the compiler's environment, so it is told where.
get_filename_component(compiler_dir "${CMAKE_CXX_COMPILER}" DIRECTORY)
find_program(GRYM_DUMPBIN dumpbin HINTS "${compiler_dir}")
set(scan_tool)
if(GRYM_DUMPBIN)
  set(scan_tool "set(CMAKE_GET_RUNTIME_DEPENDENCIES_TOOL dumpbin)
  set(CMAKE_GET_RUNTIME_DEPENDENCIES_COMMAND \"${GRYM_DUMPBIN}\")")
endif()

# Quoted one by one: "C:/Program Files/..." must stay one argument in the generated script.
set(installed_programs)
foreach(program ${GRYM_PROGRAMS})
  string(APPEND installed_programs " \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/${program}.exe\"")
endforeach()
set(quoted_dll_dirs)
foreach(dir ${dll_dirs})
  string(APPEND quoted_dll_dirs " \"${dir}\"")
endforeach()
install(CODE "
  ${scan_tool}
  file(GET_RUNTIME_DEPENDENCIES
    EXECUTABLES${installed_programs}
    DIRECTORIES${quoted_dll_dirs}
    RESOLVED_DEPENDENCIES_VAR resolved
    UNRESOLVED_DEPENDENCIES_VAR unresolved
    PRE_EXCLUDE_REGEXES \"^api-ms-\" \"^ext-ms-\"
    POST_EXCLUDE_REGEXES \"[Ss]ystem32\" \"[Ss]ys[Ww][Oo][Ww]64\")
  if(unresolved)
    message(WARNING \"packaging: DLLs not found (add their folder to GRYM_RUNTIME_DLL_DIRS): \${unresolved}\")
  endif()
  if(resolved)
    file(INSTALL \${resolved} DESTINATION \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\")
  endif()
  ")

if(TARGET grym-synth)
  find_program(GRYM_WINDEPLOYQT windeployqt HINTS "${QT6_INSTALL_PREFIX}/${QT6_INSTALL_BINS}" REQUIRED)
  install(CODE "
    execute_process(
      COMMAND \"${GRYM_WINDEPLOYQT}\" --release --no-translations --no-system-d3d-compiler
              --no-compiler-runtime --dir \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\"
              \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/grym-synth.exe\"
      RESULT_VARIABLE status)
    if(NOT status EQUAL 0)
      message(FATAL_ERROR \"windeployqt failed (\${status})\")
    endif()
    ")
endif()

set(CMAKE_INSTALL_SYSTEM_RUNTIME_DESTINATION ${CMAKE_INSTALL_BINDIR})
include(InstallRequiredSystemLibraries)

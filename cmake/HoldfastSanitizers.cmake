# Applies HOLDFAST_SANITIZE to every target of this build folder. Sanitized builds live in their own
# folder (the Makefile uses build-asan/ and build-tsan/), never in the default one.
if(HOLDFAST_SANITIZE)
  string(REPLACE "," ";" _holdfast_sanitizers "${HOLDFAST_SANITIZE}")
  foreach(_s IN LISTS _holdfast_sanitizers)
    if(NOT _s MATCHES "^(address|undefined|thread)$")
      message(FATAL_ERROR "HOLDFAST_SANITIZE: unknown sanitizer '${_s}' (use address, undefined, thread)")
    endif()
  endforeach()
  if("thread" IN_LIST _holdfast_sanitizers AND "address" IN_LIST _holdfast_sanitizers)
    message(FATAL_ERROR "HOLDFAST_SANITIZE: thread cannot be combined with address")
  endif()
  # -O1 and line tables only (-g1): a sanitized build compiles in less than half the time of
  # -O2 -g, and reports still name files and lines. Appended after the build type's flags, so
  # they win.
  set(_flags "-fsanitize=${HOLDFAST_SANITIZE}" -fno-omit-frame-pointer -O1 -g1)
  if("undefined" IN_LIST _holdfast_sanitizers)
    list(APPEND _flags -fno-sanitize-recover=undefined)
  endif()
  add_compile_options(${_flags} -D_GLIBCXX_ASSERTIONS)
  add_link_options("-fsanitize=${HOLDFAST_SANITIZE}")
endif()

# Under AddressSanitizer, the test and replay programs' own sources at -O0: instrumenting
# GoogleTest's large test bodies at -O1 was four fifths of CI's asan-test build (session_test's
# batches took 80-100 s each, 30-35 s at -O0). Called at the end of a folder's CMakeLists.txt; the
# engine and the helper libraries the programs link (the fault-injecting file system, the session
# driver) keep -O1, and every check stays on.
function(holdfast_sanitized_programs_at_o0)
  if(NOT HOLDFAST_SANITIZE MATCHES "address")
    return()
  endif()
  get_directory_property(_targets BUILDSYSTEM_TARGETS)
  foreach(_target IN LISTS _targets)
    get_target_property(_type ${_target} TYPE)
    if(_type STREQUAL "EXECUTABLE")
      target_compile_options(${_target} PRIVATE -O0)
    endif()
  endforeach()
endfunction()

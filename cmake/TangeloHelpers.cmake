# One helper per target kind (library, test, benchmark, fuzzer), so warnings,
# sanitizers and include paths are declared once for all of our code.

set(TANGELO_WARNINGS -Wall -Wextra -Wconversion -Wsign-conversion -Wshadow -Werror
    -Wno-error=deprecated-declarations)
# GCC 12 at -O3 reports false positives from inside libstdc++ (std::string
# copies seen as overlapping memcpy, PR 105329 and friends): keep them as
# warnings, not errors, so an optimiser quirk cannot break the build.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  list(APPEND TANGELO_WARNINGS -Wno-error=restrict -Wno-error=stringop-overflow
       -Wno-error=array-bounds -Wno-error=maybe-uninitialized -Wno-error=stringop-overread)
endif()

set(TANGELO_TEST_LABELS_ONLY "" CACHE STRING "Only build tests with one of these labels (empty: all)")
set(TANGELO_SANITIZER_FLAGS "")
if(TANGELO_SANITIZE STREQUAL "address")
  set(TANGELO_SANITIZER_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all
      -fno-omit-frame-pointer)
elseif(NOT TANGELO_SANITIZE STREQUAL "")
  message(FATAL_ERROR "TANGELO_SANITIZE must be empty or 'address'")
endif()

function(_tangelo_common target)
  target_compile_options(${target} PRIVATE ${TANGELO_WARNINGS} ${TANGELO_SANITIZER_FLAGS})
  target_link_options(${target} PRIVATE ${TANGELO_SANITIZER_FLAGS})
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR}/src)
endfunction()

# tangelo_library(NAME base SRCS a.cc b.cc DEPS other_module LIBS system_lib)
# Creates the static library tangelo_<NAME>.
function(tangelo_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS;LIBS" ${ARGN})
  set(target tangelo_${ARG_NAME})
  add_library(${target} STATIC ${ARG_SRCS})
  _tangelo_common(${target})
  foreach(dep IN LISTS ARG_DEPS)
    target_link_libraries(${target} PUBLIC tangelo_${dep})
  endforeach()
  target_link_libraries(${target} PUBLIC ${ARG_LIBS} Threads::Threads)
  if(TANGELO_SANITIZE STREQUAL "address")
    target_link_options(${target} INTERFACE ${TANGELO_SANITIZER_FLAGS})
  endif()
  # libFuzzer needs coverage instrumentation in the code under test, not only
  # in the fuzz target: without it the fuzzer mutates blind.
  if(TANGELO_FUZZ)
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link)
  endif()
endfunction()

# tangelo_test(NAME ledger_test SRCS ledger_test.cc DEPS ledger LABELS unit)
# Labels: unit (fast, pure), property (randomised, seeded), integration
# (processes, sockets, real disk), crash (SIGKILL loops). The ASan run in
# `make test` runs the unit and property labels.
function(tangelo_test)
  if(NOT TANGELO_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "NAME;TIMEOUT" "SRCS;DEPS;LIBS;LABELS;ARGS" ${ARGN})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  # A build that runs only some labels (the ASan build runs unit and
  # property) does not compile the other tests at all.
  if(TANGELO_TEST_LABELS_ONLY)
    set(_wanted FALSE)
    foreach(label IN LISTS ARG_LABELS)
      if(label IN_LIST TANGELO_TEST_LABELS_ONLY)
        set(_wanted TRUE)
      endif()
    endforeach()
    if(NOT _wanted)
      return()
    endif()
  endif()
  add_executable(${ARG_NAME} ${ARG_SRCS})
  _tangelo_common(${ARG_NAME})
  foreach(dep IN LISTS ARG_DEPS)
    target_link_libraries(${ARG_NAME} PRIVATE tangelo_${dep})
  endforeach()
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gtest_main
                        Threads::Threads)
  add_test(NAME ${ARG_NAME} COMMAND ${ARG_NAME} ${ARG_ARGS}
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  set_tests_properties(${ARG_NAME} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT})
endfunction()

# tangelo_bench(NAME ledger_bench SRCS ledger_bench.cc DEPS ledger)
# Google Benchmark micro-benchmarks; also registered as a short smoke test so
# they cannot rot.
function(tangelo_bench)
  if(NOT TANGELO_BUILD_BENCHMARKS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS;LIBS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  _tangelo_common(${ARG_NAME})
  foreach(dep IN LISTS ARG_DEPS)
    target_link_libraries(${ARG_NAME} PRIVATE tangelo_${dep})
  endforeach()
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_LIBS} benchmark::benchmark
                        benchmark::benchmark_main Threads::Threads)
  if(TANGELO_BUILD_TESTS)
    add_test(NAME ${ARG_NAME}_smoke COMMAND ${ARG_NAME} --benchmark_min_time=0.001)
    set_tests_properties(${ARG_NAME}_smoke PROPERTIES LABELS "bench_smoke" TIMEOUT 120)
  endif()
endfunction()

# tangelo_fuzzer(NAME iso8583_fuzz SRCS fuzz.cc DEPS gateway)
# libFuzzer target; only built with clang and TANGELO_FUZZ=ON.
function(tangelo_fuzzer)
  if(NOT TANGELO_FUZZ)
    return()
  endif()
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS;LIBS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  _tangelo_common(${ARG_NAME})
  target_compile_options(${ARG_NAME} PRIVATE -fsanitize=fuzzer)
  target_link_options(${ARG_NAME} PRIVATE -fsanitize=fuzzer)
  foreach(dep IN LISTS ARG_DEPS)
    target_link_libraries(${ARG_NAME} PRIVATE tangelo_${dep})
  endforeach()
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_LIBS})
endfunction()

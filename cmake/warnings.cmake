# Warnings are errors everywhere in the project's own code.
function(frugal_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-qual
    -Wformat=2 -Wimplicit-fallthrough -Werror)
endfunction()

# A project library: sources, include root src/, warnings, links.
function(frugal_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
  frugal_warnings(${name})
endfunction()

# A unit test: one gtest executable registered with CTest under the label "unit".
# FRUGAL_SHARED_DIR points at ../shared (absent in users' clones: tests skip, never fail).
function(frugal_test name)
  if(NOT FRUGAL_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE
    FRUGAL_SHARED_DIR="${PROJECT_SOURCE_DIR}/../shared"
    FRUGAL_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  frugal_warnings(${name})
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS unit TIMEOUT 300)
endfunction()

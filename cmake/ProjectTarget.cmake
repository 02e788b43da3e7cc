# sc_library(NAME SOURCES... [DEPS ...]) and sc_executable(NAME SOURCES... [DEPS ...]):
# our own targets, always with the strict warning set. Third-party code never goes
# through these, so -Werror applies to our code only.
set(SC_WARNINGS -Wall -Wextra -Werror -Wshadow -Wnon-virtual-dtor -Wno-missing-field-initializers)

function(sc_apply_warnings target)
  target_compile_options(${target} PRIVATE ${SC_WARNINGS})
endfunction()

function(sc_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PUBLIC_DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} PUBLIC ${ARG_PUBLIC_DEPS})
  set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  sc_apply_warnings(${name})
endfunction()

function(sc_executable name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  sc_apply_warnings(${name})
endfunction()

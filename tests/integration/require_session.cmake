# Included by CTest after the discovered gtest cases are defined: every case of
# integration_tests needs the shared recorded session.
get_property(_sc_tests DIRECTORY PROPERTY TESTS)
foreach(_t IN LISTS _sc_tests)
  if(NOT _t MATCHES "^integration\\.")
    set_tests_properties("${_t}" PROPERTIES FIXTURES_REQUIRED qemu_session)
  endif()
endforeach()

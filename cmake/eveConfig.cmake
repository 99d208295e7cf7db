# Installed package file: find_package(eve) defines the imported target eve::eve.
get_filename_component(_eve_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
if(NOT TARGET eve::eve)
  add_library(eve::eve SHARED IMPORTED)
  set_target_properties(eve::eve PROPERTIES
    IMPORTED_LOCATION "${_eve_prefix}/lib/libeve.so"
    INTERFACE_INCLUDE_DIRECTORIES "${_eve_prefix}/include")
endif()
unset(_eve_prefix)

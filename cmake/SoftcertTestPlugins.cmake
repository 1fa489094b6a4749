# softcert_add_test_plugins(KIND <kind> DIR <output dir> NAMES <name>...): one MODULE library
# per name, softcert_<kind>_<name> built from <name>.cc into <dir>/lib<kind>-<name>.so, as a
# third party would ship a plugin: only the ABI's headers in lib/include/softcert, IEEE arithmetic as written
# (-fno-fast-math -ffp-contract=off), self-contained (--no-undefined) and exporting only the
# softcert_* symbols (exports.map next to the sources). The broken and the hostile plugins use it.
function(softcert_add_test_plugins)
  cmake_parse_arguments(ARG "" "KIND;DIR" "NAMES" ${ARGN})
  foreach(name IN LISTS ARG_NAMES)
    set(target softcert_${ARG_KIND}_${name})
    add_library(${target} MODULE ${name}.cc common.hpp exports.map)
    set_target_properties(${target} PROPERTIES
      OUTPUT_NAME ${ARG_KIND}-${name}
      LIBRARY_OUTPUT_DIRECTORY ${ARG_DIR}
      CXX_VISIBILITY_PRESET hidden
      VISIBILITY_INLINES_HIDDEN ON)
    target_compile_features(${target} PRIVATE cxx_std_20)
    target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/lib/include)
    target_compile_options(${target} PRIVATE -fno-fast-math -ffp-contract=off -Wall -Wextra)
    if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
      target_link_options(${target} PRIVATE LINKER:--no-undefined
                          LINKER:--version-script=${CMAKE_CURRENT_SOURCE_DIR}/exports.map)
      set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/exports.map)
    endif()
  endforeach()
endfunction()

# Finds softcert's dependencies, all from Debian's packages. A missing one stops configure with the
# package to install (ci/install-deps.sh installs them all).

function(softcert_missing what package)
  message(FATAL_ERROR "softcert needs ${what}: install the Debian package '${package}' "
                      "(or run ci/install-deps.sh, which installs every dependency)")
endfunction()

find_package(Threads REQUIRED)

find_package(Boost 1.74 QUIET)
if(NOT Boost_FOUND)
  softcert_missing("Boost.Multiprecision" libboost-dev)
endif()

find_path(MPFR_INCLUDE_DIR mpfr.h)
find_library(MPFR_LIBRARY mpfr)
if(NOT MPFR_INCLUDE_DIR OR NOT MPFR_LIBRARY)
  softcert_missing("MPFR" libmpfr-dev)
endif()
find_path(MPFI_INCLUDE_DIR mpfi.h)
find_library(MPFI_LIBRARY mpfi)
if(NOT MPFI_INCLUDE_DIR OR NOT MPFI_LIBRARY)
  softcert_missing("MPFI (interval arithmetic over MPFR, for the oracle's Ziv loop)" libmpfi-dev)
endif()
find_path(GMP_INCLUDE_DIR gmp.h)
find_library(GMP_LIBRARY gmp)
if(NOT GMP_INCLUDE_DIR OR NOT GMP_LIBRARY)
  softcert_missing("GMP" libgmp-dev)
endif()
add_library(softcert_mp INTERFACE)
target_include_directories(softcert_mp SYSTEM INTERFACE ${MPFI_INCLUDE_DIR} ${MPFR_INCLUDE_DIR}
                                                        ${GMP_INCLUDE_DIR})
target_link_libraries(softcert_mp INTERFACE Boost::headers ${MPFI_LIBRARY} ${MPFR_LIBRARY}
                                            ${GMP_LIBRARY})

find_package(fmt QUIET)
if(NOT fmt_FOUND)
  softcert_missing("fmt" libfmt-dev)
endif()
find_package(CLI11 QUIET)
if(NOT CLI11_FOUND)
  softcert_missing("CLI11" libcli11-dev)
endif()
find_package(nlohmann_json 3 QUIET)
if(NOT nlohmann_json_FOUND)
  softcert_missing("nlohmann-json" nlohmann-json3-dev)
endif()

# Google Highway: lib's `simd` algorithm (runtime dispatch over AVX-512, AVX2, SSE4, scalar).
find_package(hwy QUIET)
if(NOT hwy_FOUND)
  softcert_missing("Google Highway" libhwy-dev)
endif()

find_package(rapidcheck QUIET)
if(NOT rapidcheck_FOUND)
  softcert_missing("RapidCheck" librapidcheck-dev)
endif()

if(SOFTCERT_BUILD_TESTS)
  find_package(GTest QUIET)
  if(NOT GTest_FOUND)
    softcert_missing("GoogleTest" libgtest-dev)
  endif()
  find_package(Python3 COMPONENTS Interpreter QUIET)
  if(NOT Python3_FOUND)
    softcert_missing("Python 3" python3)
  endif()
  include(GoogleTest)
endif()

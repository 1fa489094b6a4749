// lib's algorithms, each as an Implementation (the registry lists them in this order).
#pragma once

#include "softcert/implementation.hpp"

namespace softcert::lib {

Implementation make_stable();    // stable.cc
Implementation make_online();    // online.cc
Implementation make_accurate();  // accurate.cc
Implementation make_simd();      // simd.cc: accurate's kernels, most f32 and f64 ones vectorised (Highway)

}  // namespace softcert::lib

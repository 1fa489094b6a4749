// `simd`'s f32 and f64 softmax_backward, vectorised with Google Highway and dispatched at run time to the
// best target this CPU supports (simd_backward.cc); a test runs every compiled target with
// simd.hpp's simd_targets() and hwy::SetSupportedTargetsForTest, as for simd's other kernels.
#pragma once

#include <cstddef>

namespace softcert::lib {

// softcert_softmax_backward_f32 and _f64 (abi.h): dx_i = y_i (dy_i - Σ_j y_j dy_j) per row, within
// 1 ULP; dx may be y or dy (in place). Each validates its input as every lib kernel does (nothing
// written on error).
int simd_softmax_backward_f32(const float* y, const float* dy, float* dx, std::size_t rows, std::size_t n);
int simd_softmax_backward_f64(const double* y, const double* dy, double* dx, std::size_t rows, std::size_t n);

}  // namespace softcert::lib

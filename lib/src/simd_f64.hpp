// `simd`'s f64 softmax, log_softmax and logsumexp, vectorised with Google Highway and dispatched at
// run time to the best target this CPU supports (simd_f64.cc); a test runs every compiled target
// with simd.hpp's simd_targets() and hwy::SetSupportedTargetsForTest, as for simd's other kernels.
// Each is within 1 ULP (nearly always correctly rounded); rows with special values, and the rare
// rows its f64 lanes cannot bound, are `accurate`'s, bit for bit.
#pragma once

#include <cstddef>

namespace softcert::lib {

// softcert_softmax_f64, softcert_log_softmax_f64 and softcert_logsumexp_f64 (abi.h). Each validates
// its input as every lib kernel does (kernels.hpp's check_rows: nothing written on error).
int simd_softmax_f64(const double* x, double* y, std::size_t rows, std::size_t n);
int simd_log_softmax_f64(const double* x, double* y, std::size_t rows, std::size_t n);
int simd_logsumexp_f64(const double* x, double* out, std::size_t rows, std::size_t n);

}  // namespace softcert::lib

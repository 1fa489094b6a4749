// `simd`'s f64 softmax, log_softmax, logsumexp, cross-entropy and its gradient, masked softmax,
// sigmoid and softmax_temperature, vectorised with Google Highway and dispatched at run time to the
// best target this CPU supports (simd_f64.cc); a test runs every compiled target with simd.hpp's
// simd_targets() and hwy::SetSupportedTargetsForTest, as for simd's other kernels. Each is within 1
// ULP (nearly always correctly rounded); rows with special values, and the rare rows its f64 lanes
// cannot bound, are `accurate`'s, bit for bit (for sigmoid, such inputs: NaN and those with
// subnormal results).
#pragma once

#include <cstddef>
#include <cstdint>

namespace softcert::lib {

// softcert_softmax_f64, softcert_log_softmax_f64 and softcert_logsumexp_f64 (abi.h). Each validates
// its input as every lib kernel does (kernels.hpp's check_rows: nothing written on error).
int simd_softmax_f64(const double* x, double* y, std::size_t rows, std::size_t n);
int simd_log_softmax_f64(const double* x, double* y, std::size_t rows, std::size_t n);
int simd_logsumexp_f64(const double* x, double* out, std::size_t rows, std::size_t n);

// softcert_cross_entropy_f64, softcert_cross_entropy_grad_f64, softcert_masked_softmax_f64 and
// softcert_sigmoid_f64 (abi.h), validated as accurate's are, in kernels.hpp's Batch order (labels
// through check_labelled_rows; keep null before the rest): nothing written on error.
int simd_cross_entropy_f64(const double* z, const std::int64_t* labels, double* loss, std::size_t rows, std::size_t n);
int simd_cross_entropy_grad_f64(const double* z, const std::int64_t* labels, double* grad, std::size_t rows,
                                std::size_t n);
int simd_masked_softmax_f64(const double* x, const std::uint8_t* keep, double* y, std::size_t rows, std::size_t n);
int simd_sigmoid_f64(const double* x, double* y, std::size_t count);

// softcert_softmax_temperature_f64 (abi.h): softmax((z - max)/t), validated as accurate's is
// (check_rows, then t > 0 finite or SOFTCERT_ERR_TEMPERATURE: nothing written on error).
int simd_softmax_temperature_f64(const double* x, double* y, std::size_t rows, std::size_t n, double t);

}  // namespace softcert::lib

// A-priori error bounds: for a given input, how far from the exact value a correct standard
// algorithm may land, so a check says "within the bound" instead of picking an epsilon.
//
// The bounds follow the rounding-error analysis of Blanchard, Higham & Higham, "Accurately
// computing the log-sum-exp and softmax functions" (IMA J. Numer. Anal. 41, 2021), made concrete
// per input: every quantity the analysis bounds in the worst case (|z_i - max|, Σ p_j |z_j - max|,
// log S, ...) is evaluated for the actual row. The derivation of each bound stands next to its
// code in oracle/src/bounds.cc; docs/bounds.md collects them.
//
// The model: each +, -, ×, / and sqrt rounds with relative error ≤ u = 2^-p (p = 24 for f32, 53
// for f64); exp, log and log1p are faithful (≤ 1 ULP, relative error ≤ φ = 2u, `function_ulps`
// scales that); results in the subnormal range carry an extra absolute error of at most η, the
// smallest subnormal, per rounding (gradual underflow); sums are recursive, in any order
// (γ_k = k u / (1 - k u)).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "softcert/oracle.hpp"

namespace softcert::oracle {

// Which algorithm the bound is for.
enum class Algorithm {
  standard,  // the tutorial's max-subtracted algorithm in the working type (lib's `stable`)
  online,    // single pass, running max and rescaled sum (Milakov & Gimelshein 2018)
};

struct BoundModel {
  Algorithm algorithm = Algorithm::standard;
  double function_ulps = 1.0;  // accuracy of exp/log/log1p/expm1 in ULPs
};

// Each function returns, per output, the bound in ULPs of that output's exact value
// (`exact` is the oracle's answer for the same input): a computed y_i is within the bound when
// ulp_error(y_i, exact_i) <= bound_i. Outputs fixed by special values (exact by DESIGN.md §2,
// e.g. softmax 0 at a -inf entry) get bound 0. Rows with NaN or +inf get all-zero bounds.
template <typename T>
std::vector<double> softmax_bound(std::span<const T> z, std::span<const Exact<T>> exact,
                                  BoundModel model = {});
template <typename T>
std::vector<double> log_softmax_bound(std::span<const T> z, std::span<const Exact<T>> exact,
                                      BoundModel model = {});
// The same for the ABI's reduced-precision kernels: a row of values of `format` (carried as
// floats), the exact results rounded to `format` (oracle.hpp), bounds in ULPs of `format`, the
// standard algorithm run in `format` (u = 2^-11 for binary16, 2^-8 for bfloat16).
std::vector<double> softmax_bound(std::span<const float> z, std::span<const Exact<float>> exact,
                                  const FloatFormat& format, BoundModel model = {});
std::vector<double> log_softmax_bound(std::span<const float> z, std::span<const Exact<float>> exact,
                                      const FloatFormat& format, BoundModel model = {});
template <typename T>
double logsumexp_bound(std::span<const T> z, const Exact<T>& exact, BoundModel model = {});
template <typename T>
std::vector<double> softmax_temperature_bound(std::span<const T> z, T t,
                                              std::span<const Exact<T>> exact,
                                              BoundModel model = {});
template <typename T>
double sigmoid_bound(T x, const Exact<T>& exact, BoundModel model = {});
template <typename T>
double cross_entropy_bound(std::span<const T> z, std::size_t label, const Exact<T>& exact,
                           BoundModel model = {});
template <typename T>
std::vector<double> cross_entropy_grad_bound(std::span<const T> z, std::size_t label,
                                             std::span<const Exact<T>> exact,
                                             BoundModel model = {});
template <typename T>
std::vector<double> softmax_backward_bound(std::span<const T> y, std::span<const T> dy,
                                           std::span<const Exact<T>> exact,
                                           BoundModel model = {});
template <typename T>
std::vector<double> masked_softmax_bound(std::span<const T> z, std::span<const std::uint8_t> keep,
                                         std::span<const Exact<T>> exact, BoundModel model = {});
template <typename T>
std::vector<double> attention_bound(std::span<const T> q, std::span<const T> k,
                                    std::span<const T> v, std::size_t lq, std::size_t lk,
                                    std::size_t d, std::size_t dv, bool causal,
                                    std::span<const Exact<T>> exact, BoundModel model = {});

}  // namespace softcert::oracle

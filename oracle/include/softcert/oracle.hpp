// The oracle: the exact value of every function of DESIGN.md §2 for float inputs, correctly
// rounded to the input's type; the ULP distance between a computed value and the exact one; and
// the a-priori error bound of the standard algorithm for a given input (oracle/src/bounds.cc).
//
// Inputs are taken as exact real numbers. Each result is computed in interval arithmetic
// (Boost.Multiprecision mpfi_float over MPFR) inside a Ziv loop: the enclosure is tightened by
// raising the working precision until both of its ends round to the same value of T, so the
// rounding is decided rigorously, never guessed (oracle/src/exact.cc). Only oracle/src includes
// MPFR or Boost.Multiprecision.
//
// Special values follow DESIGN.md §2 in the strict profile (the mathematical limits):
//   - a NaN anywhere in a row makes the row's outputs NaN;
//   - k > 0 entries +inf (no NaN): softmax 1/k there and 0 elsewhere, lse +inf, log_softmax
//     -log k there and -inf elsewhere;
//   - -inf entries contribute exactly 0; a row of only -inf (nothing kept, for masked_softmax)
//     has softmax all zero, log_softmax all -inf, lse -inf. The zero row is softcert's choice
//     among the conventions DESIGN.md allows (all-NaN, all-zero, uniform); it is the one that
//     keeps "a fully masked query attends to nothing" and never produces NaN.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "softcert/float_format.hpp"

namespace softcert::oracle {

// One exact value: `value` is the exact result rounded to nearest-even in T (subnormals kept,
// overflow to ±inf); `hi + lo` is the exact result to about the Ziv loop's final working
// precision (2p + 20 bits or more for T's p, less what a long row's sum loses: 42 bits for
// binary16, 68 for f32), plenty for fractional ULP errors, not a 106-bit value;
// `exact` says the exact result is representable in T, so `value` is the exact result itself.
template <typename T>
struct Exact {
  T value;
  double hi;
  double lo;
  bool exact;
};

template <typename T> std::vector<Exact<T>> softmax(std::span<const T> z);
template <typename T> std::vector<Exact<T>> log_softmax(std::span<const T> z);
template <typename T> Exact<T> logsumexp(std::span<const T> z);
// softmax(z / t) with z / t exact (not the rounded quotient); t finite and > 0.
template <typename T> std::vector<Exact<T>> softmax_temperature(std::span<const T> z, T t);
template <typename T> Exact<T> sigmoid(T x);
// lse(z) - z[label], label in [0, n).
template <typename T> Exact<T> cross_entropy(std::span<const T> z, std::size_t label);
// softmax(z) - onehot(label).
template <typename T> std::vector<Exact<T>> cross_entropy_grad(std::span<const T> z, std::size_t label);
// y_i (dy_i - sum_j y_j dy_j) for the given y (not necessarily a softmax output) and dy.
template <typename T>
std::vector<Exact<T>> softmax_backward(std::span<const T> y, std::span<const T> dy);
// softmax over the entries with keep[i] != 0, exactly 0 elsewhere.
template <typename T>
std::vector<Exact<T>> masked_softmax(std::span<const T> z, std::span<const std::uint8_t> keep);
// out (lq × dv) of softmax((q kᵀ)/sqrt(d)) v, row-major, causal masking j > i.
template <typename T>
std::vector<Exact<T>> attention(std::span<const T> q, std::span<const T> k, std::span<const T> v,
                                std::size_t lq, std::size_t lk, std::size_t d, std::size_t dv,
                                bool causal);

// Reduced precision (the ABI's f16/bf16 kernels): the exact softmax and log_softmax of a row of
// values of `format` (kBinary16 or kBFloat16, carried as floats), rounded to `format`; `value` is
// that rounding (a float), `hi + lo` the exact result. Throws std::invalid_argument when an entry
// is not a value of `format`.
std::vector<Exact<float>> softmax(std::span<const float> z, const FloatFormat& format);
std::vector<Exact<float>> log_softmax(std::span<const float> z, const FloatFormat& format);

// Distance between two values of T in ULPs, counting the representable values between them:
// 0 for equal values (+0 and -0 are equal here; compare encodings to tell them apart) and for two
// NaNs; +infinity when exactly one is NaN, or one is infinite and the other is not the same
// infinity. Subnormals are spaced by the smallest subnormal, as DESIGN.md §2 defines.
template <typename T> double ulp_distance(T a, T b);

// |computed - exact| in ULPs of the exact value (ulp of a subnormal result: the smallest
// subnormal), fractional: a correctly rounded result scores <= 0.5. Non-finite values as in
// ulp_distance (0 when computed equals the exact special value, +infinity otherwise).
template <typename T> double ulp_error(T computed, const Exact<T>& exact);

// Whether `computed` is within `bound_ulps` of the exact value (ulp_error <= bound). A bound of
// +infinity (a model that does not apply) admits any finite output, never NaN or ±inf where the
// exact value is finite (DESIGN.md §2). A zero where the exact value is subnormal (below T's
// smallest normal) is admitted too: DESIGN.md §2 reports flushed subnormals, it does not fail them
// (the certifier's behaviour/subnormal_results check names the flushing).
template <typename T>
bool within_bound(T computed, const Exact<T>& exact, double bound_ulps);

// The ULP of the exact value x = hi (for T): 2^(max(e, emin) - p + 1).
template <typename T> double ulp_of(double x);
double ulp_of(double x, const FloatFormat& f);  // the same in any format

// ulp_error and within_bound in ULPs of a reduced format (values carried as floats).
double ulp_error(float computed, const Exact<float>& exact, const FloatFormat& f);
bool within_bound(float computed, const Exact<float>& exact, double bound_ulps, const FloatFormat& f);

// Whether the precision of the last oracle call on this thread had to be raised past the first
// try (for statistics) and how many Ziv iterations it took.
struct ZivStats {
  std::uint64_t calls = 0;
  std::uint64_t retries = 0;
  unsigned max_precision = 0;
};
ZivStats& ziv_stats();  // this thread's counters

// Frees MPFR's per-thread caches (constants such as log 2, exp tables). A thread that used the
// oracle calls it before it ends; otherwise the caches outlive the thread (a leak to LSan).
void release_thread_caches();

}  // namespace softcert::oracle

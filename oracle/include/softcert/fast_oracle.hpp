// The oracle's fast paths: the correctly rounded result from double arithmetic where a rigorous
// error bound shows the rounding is decided, nullopt where it is not (then ask the MPFR oracle,
// oracle.hpp). Bit-identical to the MPFR oracle wherever they answer (oracle/test/fast_oracle_test.cc).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <vector>

#include "softcert/oracle.hpp"

namespace softcert::oracle {

// σ(x) for a float32 x. In double: e = exp(-|x|) has relative error ≤ 1 ulp (glibc's exp is
// correctly rounded to within 1 ulp), 1 + e and the quotient round once each, so
// s = 1/(1 + e) (x ≥ 0) or e/(1 + e) (x < 0) is within 4 u_d = 2^-51 of σ(x) relatively; below
// double's range (x < -745) s = 0 and σ(x) < 2^-1074. The float rounding of s is σ(x)'s when
// no float32 rounding boundary (a midpoint, including 2^-150 between 0 and the smallest
// subnormal) lies within 2^-48 |s| of s, eight times that error.
inline std::optional<Exact<float>> sigmoid_fast(float x) {
  if (std::isnan(x)) {  // the oracle's NaN is the default quiet one, whatever the payload
    const float nan = std::numeric_limits<float>::quiet_NaN();
    return Exact<float>{nan, static_cast<double>(nan), 0.0, true};
  }
  if (std::isinf(x)) return Exact<float>{x > 0 ? 1.0f : 0.0f, x > 0 ? 1.0 : 0.0, 0.0, true};
  const double e = std::exp(-std::fabs(static_cast<double>(x)));
  const double s = x >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
  if (s == 0) return Exact<float>{0.0f, 0.0, 0.0, false};  // 0 < σ(x) < 2^-1074: rounds to +0
  const float f = static_cast<float>(s);
  const double margin = std::ldexp(s, -48);
  const double below = (static_cast<double>(f) + std::nextafter(f, 0.0f)) / 2;  // exact: 24 + 1 bits
  const double above = (static_cast<double>(f) + std::nextafter(f, 2.0f)) / 2;
  if (std::fabs(s - below) <= margin || std::fabs(s - above) <= margin) return std::nullopt;
  return Exact<float>{f, s, 0.0, x == 0};  // σ(0) = 1/2 is the only exact float value
}

}  // namespace softcert::oracle

// The softmax family for float32 rows (and σ for float64) decided in double-double arithmetic
// with a rigorous error bound (oracle/src/fast_softmax.cc derives it): each output is the
// enclosure [A - B, A + B] of the exact value, A a double-double, B an upper bound of |A - exact|;
// the output is decided when no rounding boundary (a midpoint between adjacent floats, 2^-150
// between 0 and the smallest subnormal, the overflow threshold) lies in the enclosure. A row with
// one undecided output, a NaN or +inf entry, or only -inf entries goes whole to the MPFR oracle
// (so do σ's subnormal double results, and any thread not in the IEEE default floating-point
// environment: rounding to nearest, no flush-to-zero, no denormals-are-zero).
//
// Bit-identical to the MPFR oracle (oracle/test/fast_oracle_test.cc): `value` (its encoding,
// signed zeros and infinities included) and `exact` are the MPFR path's. `hi + lo` is A, within
// 2^-59 |v| + 2^-1000 of the exact value v (an A whose B is wider is not given: MPFR then); the
// MPFR path's hi + lo is the midpoint of its last Ziv enclosure, so the two differ by up to that
// enclosure's half-width too (at most 2^-57 |v| in the tests; they check 2^-45 |v|).
namespace softcert::oracle::fast_oracle {

// With a fallback to the MPFR oracle: always the oracle's answer.
std::vector<Exact<float>> softmax_f32(std::span<const float> z);
std::vector<Exact<float>> log_softmax_f32(std::span<const float> z);
Exact<float> logsumexp_f32(std::span<const float> z);
Exact<double> sigmoid_f64(double x);

// The fast path alone: nullopt where it does not decide (then the MPFR oracle must answer).
std::optional<std::vector<Exact<float>>> try_softmax_f32(std::span<const float> z);
std::optional<std::vector<Exact<float>>> try_log_softmax_f32(std::span<const float> z);
std::optional<Exact<float>> try_logsumexp_f32(std::span<const float> z);
std::optional<Exact<double>> try_sigmoid_f64(double x);

// This thread's counts: calls of the functions with a fallback, and how many went to MPFR.
struct Stats {
  std::uint64_t calls = 0;
  std::uint64_t fallbacks = 0;
};
Stats& stats();

}  // namespace softcert::oracle::fast_oracle

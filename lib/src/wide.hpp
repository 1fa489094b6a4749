// The working type of lib's `accurate` algorithm: for an f32 kernel, double (29 more bits than the
// output, and exp/log1p of glibc faithful in double); for an f64 kernel, double-double. Both are
// used through the same few operations, so each accurate kernel is written once for both types.
#pragma once

#include <cmath>

#include "double_double.hpp"

namespace softcert::lib {

template <typename T>
struct Wide;

template <>
struct Wide<float> {
  using W = double;
  static W from(float x) { return x; }
  // a - b for floats: exact in double whenever the difference matters (|a - b| below 2^(29 + e)).
  static W difference(float a, float b) { return static_cast<double>(a) - static_cast<double>(b); }
  static W product(float a, float b) { return static_cast<double>(a) * b; }  // exact: 48 bits
  static W add(W a, W b) { return a + b; }
  static W sub(W a, W b) { return a - b; }
  static W mul(W a, W b) { return a * b; }
  static W div(W a, W b) { return a / b; }
  static W neg(W a) { return -a; }
  static W exp(W a) { return std::exp(a); }
  // Double's range covers every f32 result: no scaling is ever needed.
  static constexpr bool kScales = false;
  static W exp_scaled(W a, int scale) { return std::ldexp(std::exp(a), scale); }
  static W ldexp(W a, int e) { return std::ldexp(a, e); }
  static float round_scaled(W a, int e) { return static_cast<float>(std::ldexp(a, e)); }
  // a + b rounded once to float (a double sum would round twice: wrong next to a midpoint).
  static float round_sum(W a, W b) { return dd::round_to_float(dd::two_sum(a, b)); }
  static W log1p(W a) { return std::log1p(a); }
  static W sqrt(W a) { return std::sqrt(a); }
  static float round(W a) { return static_cast<float>(a); }
  static double approx(W a) { return a; }

  // Neumaier's compensated sum: error independent of the number of terms.
  struct Sum {
    double s = 0, c = 0;
    void add(double x) {
      const double t = s + x;
      c += std::fabs(s) >= std::fabs(x) ? (s - t) + x : (x - t) + s;
      s = t;
    }
    double value() const { return s + c; }
  };
};

template <>
struct Wide<double> {
  using W = dd::DD;
  static W from(double x) { return {x, 0}; }
  static W difference(double a, double b) {  // TwoSum: exact unless it overflows
    const W d = dd::two_sum(a, -b);
    return std::isfinite(d.hi) ? d : W{d.hi, 0};
  }
  static W product(double a, double b) {
    const W p = dd::two_prod(a, b);
    return std::isfinite(p.hi) ? p : W{p.hi, 0};
  }
  static W add(W a, W b) { return dd::add(a, b); }
  static W sub(W a, W b) { return dd::sub(a, b); }
  static W mul(W a, W b) { return dd::mul(a, b); }
  static W div(W a, W b) { return dd::div(a, b); }
  static W neg(W a) { return dd::neg(a); }
  static W exp(W a) { return dd::exp(a); }
  // Terms below the double range (a shift of -745 or less) are computed times 2^scale.
  static constexpr bool kScales = true;
  static W exp_scaled(W a, int scale) { return dd::exp(a, scale); }
  static W ldexp(W a, int e) { return dd::ldexp(a, e); }
  static double round_scaled(W a, int e) { return dd::round_scaled(a, e); }
  static double round_sum(W a, W b) { return dd::round_sum(a, b); }
  static W log1p(W a) { return dd::log1p(a); }
  static W sqrt(W a) { return dd::sqrt(a); }
  static double round(W a) { return a.hi + a.lo; }  // hi + lo normalised: hi already, unless lo was added after
  static double approx(W a) { return a.hi; }

  struct Sum {
    W s{0, 0};
    void add(W x) { s = dd::add(s, x); }
    W value() const { return s; }
  };
};

}  // namespace softcert::lib

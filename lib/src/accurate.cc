// `accurate`: every function computed in a wider type (Wide<T>: double for f32, double-double for
// f64) and rounded once at the end, so that the result is within 1 ULP (nearly always correctly
// rounded). Beyond the width:
//   - the shift z_i - max is exact (float differences in double; TwoSum in f64);
//   - sums are compensated (Neumaier in double, double-double for f64): no drift with n;
//   - log Σ exp(z_j - max) is log1p of the sum WITHOUT the max's own term 1, so log_softmax
//     = -((max - z_i) + log1p(rest)) and cross-entropy = (max - z_y) + log1p(rest) add two
//     non-negative numbers: no cancellation where log p ≈ 0;
//   - the gradient at the label is -(Σ_{j != y} e_j) / S, not p_y - 1;
//   - softmax_backward works in double-double for f32 too (see there).
#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

#include "algorithms.hpp"
#include "attention.hpp"
#include "kernels.hpp"
#include "wide.hpp"

namespace softcert::lib {
namespace {

struct Accurate {
  // exp(z_i - max) · 2^scale for every entry (0 for -inf and masked-out entries), in the wide
  // type. The scale is 0 unless every term but the max's own lies below the double range, where
  // the terms would lose bits to gradual underflow; then it lifts the largest of them near 1
  // (at most 2^1000, so the max's own term 2^scale stays finite). Ratios of terms (softmax, the
  // gradient) do not see the scale; log1p of the rest does (see log_sum).
  template <typename T>
  struct Terms {
    std::vector<typename Wide<T>::W>& e;
    int scale;
  };

  template <typename T>
  static Terms<T> exponentials(const RowScan<T>& s, const T* z, std::size_t n, const uint8_t* keep, T t) {
    using X = Wide<T>;
    thread_local std::vector<typename X::W> e;
    thread_local std::vector<typename X::W> shifts;
    e.assign(n, X::from(0));
    shifts.assign(n, X::from(0));
    double largest_rest = -std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < n; ++i) {
      if ((keep && !keep[i]) || z[i] == -kInf<T>) continue;
      typename X::W a = X::difference(z[i], s.max);
      if (t != 1) a = X::div(a, X::from(t));
      shifts[i] = a;
      if (i != s.argmax) largest_rest = std::max(largest_rest, X::approx(a));
    }
    int scale = 0;
    if (X::kScales && largest_rest < -700) {
      scale = static_cast<int>(std::min(1000.0, std::floor(-largest_rest / std::numbers::ln2)));
    }
    for (std::size_t i = 0; i < n; ++i) {
      if ((keep && !keep[i]) || z[i] == -kInf<T>) continue;
      e[i] = X::exp_scaled(shifts[i], scale);
    }
    return {e, scale};
  }

  // Σ_{j != skip} e_j.
  template <typename T>
  static typename Wide<T>::W sum_except(const std::vector<typename Wide<T>::W>& e, std::size_t skip) {
    typename Wide<T>::Sum sum;
    for (std::size_t j = 0; j < e.size(); ++j) {
      if (j != skip) sum.add(e[j]);
    }
    return sum.value();
  }

  template <typename T>
  static void softmax(const RowScan<T>& s, const T* z, T* y, std::size_t n, const uint8_t* keep, T t) {
    using X = Wide<T>;
    const Terms<T> terms = exponentials(s, z, n, keep, t);
    const auto& e = terms.e;
    const typename X::W total = X::add(sum_except<T>(e, s.argmax), e[s.argmax]);
    for (std::size_t i = 0; i < n; ++i) y[i] = X::round(X::div(e[i], total));
  }

  // log Σ exp(z_j - max) = log1p(rest), rest = Σ_{j != argmax} exp(z_j - max), as L · 2^-scale.
  // With a scale, rest < n · e^-700, and log1p(rest) = rest (1 - rest/2 + ...) is rest to far
  // below any rounding: the scaled rest is the scaled L.
  template <typename T>
  struct LogSum {
    typename Wide<T>::W scaled;
    int scale;
  };

  template <typename T>
  static LogSum<T> log_sum(const RowScan<T>& s, const T* z, std::size_t n) {
    const Terms<T> terms = exponentials(s, z, n, nullptr, T(1));
    const typename Wide<T>::W rest = sum_except<T>(terms.e, s.argmax);
    if (terms.scale == 0) return {Wide<T>::log1p(rest), 0};
    return {rest, terms.scale};
  }

  // x + sign · L rounded once, x exact in the wide type.
  template <typename T>
  static T plus(typename Wide<T>::W x, int sign, const LogSum<T>& l) {
    using X = Wide<T>;
    const typename X::W term = sign < 0 ? X::neg(l.scaled) : l.scaled;
    if (l.scale == 0) return X::round(X::add(x, term));
    // Work in the scaled domain while x fits there; otherwise L is far below half an ULP of x.
    if (std::fabs(X::approx(x)) < std::ldexp(1.0, 1000 - l.scale)) {
      return X::round_scaled(X::add(X::ldexp(x, l.scale), term), -l.scale);
    }
    return X::round(x);
  }

  template <typename T>
  static void log_softmax(const RowScan<T>& s, const T* z, T* y, std::size_t n) {
    using X = Wide<T>;
    const LogSum<T> l = log_sum(s, z, n);
    // (z_i - max) - L: an exact non-positive number minus a non-negative one, so no cancellation
    // (and the max entry's exact 0 - 0 stays +0).
    for (std::size_t i = 0; i < n; ++i) y[i] = plus<T>(X::difference(z[i], s.max), -1, l);
  }

  template <typename T>
  static T logsumexp(const RowScan<T>& s, const T* z, std::size_t n) {
    return plus<T>(Wide<T>::from(s.max), +1, log_sum(s, z, n));
  }

  template <typename T>
  static T cross_entropy(const RowScan<T>& s, const T* z, std::size_t label, std::size_t n) {
    return plus<T>(Wide<T>::difference(s.max, z[label]), +1, log_sum(s, z, n));
  }

  template <typename T>
  static void cross_entropy_grad(const RowScan<T>& s, const T* z, std::size_t label, T* g, std::size_t n) {
    using X = Wide<T>;
    const auto& e = exponentials(s, z, n, nullptr, T(1)).e;
    const typename X::W rest = sum_except<T>(e, label);
    const typename X::W total = X::add(rest, e[label]);
    for (std::size_t i = 0; i < n; ++i) {
      g[i] = X::round(i == label ? X::neg(X::div(rest, total)) : X::div(e[i], total));
    }
  }

  template <typename T>
  static T sigmoid(T x) {
    using X = Wide<T>;
    const typename X::W one = X::from(1);
    if (x >= 0) return X::round(X::div(one, X::add(one, X::exp(X::from(-x)))));
    const typename X::W e = X::exp(X::from(x));  // NaN lands here too and stays NaN
    return X::round(X::div(e, X::add(one, e)));
  }

  // dx_i = y_i (dy_i - s), s = Σ y_j dy_j, for both types in double arithmetic with error-free
  // transformations: every product is exact (TwoProd), the sum is distilled twice (Ogita, Rump &
  // Oishi's VecSum) to three doubles, about 150 bits, so dy_i - s keeps its value where the two
  // nearly cancel (a one-hot y makes dx the tiny remainder). Products and the final result are
  // computed times a power of two that keeps the small ones out of the subnormal range, and the
  // result is rounded once from all its bits.
  static int lift(double largest) {  // 2^k that brings `largest` near 2^1000 (never down)
    if (!(largest > 0) || !std::isfinite(largest)) return 0;
    return std::clamp(1000 - std::ilogb(largest), 0, 1000);
  }

  template <typename T>
  static void softmax_backward(const T* y, const T* dy, T* dx, std::size_t n) {
    double largest_product = 0, largest_y = 0;
    for (std::size_t j = 0; j < n; ++j) {
      largest_product = std::max(largest_product, std::fabs(double(y[j]) * double(dy[j])));
      largest_y = std::max(largest_y, std::fabs(double(y[j])));
    }
    const int kp = lift(largest_product), ky = lift(largest_y);
    thread_local std::vector<double> terms;
    terms.clear();
    for (std::size_t j = 0; j < n; ++j) {
      const dd::DD p = dd::two_prod(std::ldexp(double(y[j]), kp), double(dy[j]));
      terms.push_back(p.hi);
      terms.push_back(p.lo);
    }
    // Two VecSum passes: afterwards the last term is the rounded sum, and the others its errors.
    for (int pass = 0; pass < 2; ++pass) {
      for (std::size_t j = 1; j < terms.size(); ++j) {
        const dd::DD t = dd::two_sum(terms[j], terms[j - 1]);
        terms[j] = t.hi, terms[j - 1] = t.lo;
      }
    }
    double s1 = terms.back(), s2 = 0, s3 = 0;
    if (terms.size() > 1) {
      s2 = terms[terms.size() - 2];
      for (std::size_t j = 0; j + 2 < terms.size(); ++j) s3 += terms[j];
    }
    s1 = std::ldexp(s1, -kp), s2 = std::ldexp(s2, -kp), s3 = std::ldexp(s3, -kp);
    for (std::size_t i = 0; i < n; ++i) {
      dd::DD r = dd::two_sum(double(dy[i]), -s1);
      r = dd::add(dd::add(r, -s2), -s3);
      const dd::DD scaled = dd::mul(r, std::ldexp(double(y[i]), ky));
      dx[i] = static_cast<T>(dd::round_scaled(scaled, -ky));
    }
  }

  template <typename T>
  static void attention(const T* q, const T* k, const T* v, T* out, std::size_t lq, std::size_t lk,
                        std::size_t d, std::size_t dv, bool causal) {
    using X = Wide<T>;
    using W = typename X::W;
    std::vector<W> scores(lk), e(lk);
    const W root = X::sqrt(X::from(static_cast<T>(d)));
    for_each_attention_row(q, k, v, out, lq, lk, d, dv, causal, [&](std::size_t i, std::size_t keys, T* o) {
      std::size_t best = 0;
      for (std::size_t j = 0; j < keys; ++j) {
        typename X::Sum dot;
        for (std::size_t c = 0; c < d; ++c) dot.add(X::product(q[i * d + c], k[j * d + c]));
        scores[j] = X::div(dot.value(), root);
        if (X::approx(X::sub(scores[j], scores[best])) > 0) best = j;
      }
      typename X::Sum den;
      for (std::size_t j = 0; j < keys; ++j) den.add(e[j] = X::exp(X::sub(scores[j], scores[best])));
      for (std::size_t c = 0; c < dv; ++c) {
        typename X::Sum num;
        for (std::size_t j = 0; j < keys; ++j) num.add(X::mul(e[j], X::from(v[j * dv + c])));
        o[c] = X::round(X::div(num.value(), den.value()));
      }
    });
  }
};

}  // namespace

Implementation make_accurate() {
  return {"accurate", kernels_of<Accurate, float>(), kernels_of<Accurate, double>()};
}

}  // namespace softcert::lib

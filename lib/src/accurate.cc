// `accurate`: every function computed in a wider type (Wide<T>: double for f32, double-double for
// f64) and rounded once at the end, so that the result is within 1 ULP (nearly always correctly
// rounded). Beyond the width:
//   - the shift z_i - max is exact (float differences in double; TwoSum in f64);
//   - sums are compensated (Neumaier in double, double-double for f64): no drift with n;
//   - log Σ exp(z_j - max) is log1p of the sum WITHOUT the max's own term 1, so log_softmax
//     = -((max - z_i) + log1p(rest)) and cross-entropy = (max - z_y) + log1p(rest) add two
//     non-negative numbers: no cancellation where log p ≈ 0;
//   - the gradient at the label is -(Σ_{j != y} e_j) / S, not p_y - 1;
//   - softmax_backward works in double-double for f32 too (softmax_backward.hpp).
#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

#include "algorithms.hpp"
#include "attention.hpp"
#include "kernels.hpp"
#include "softmax_backward.hpp"
#include "wide.hpp"

namespace softcert::lib {
namespace {

struct Accurate {
  // In f64 the terms exp(z_j - max) are computed times 2^scale when every one but the max's own
  // lies below e^-650 (about 2^-938): their double-double low parts would otherwise reach the
  // subnormal range and lose bits.
  static constexpr double kScaleBelow = -650;

  // exp(z_i - max) · 2^scale for every entry (0 for -inf and masked-out entries), in the wide
  // type. The scale is 0 unless every term but the max's own lies below the double range, where
  // the terms would lose bits to gradual underflow; then it lifts the largest of them near 1
  // (at most 2^1000, so the max's own term 2^scale stays finite). Ratios of terms (softmax, the
  // gradient) do not see the scale; log1p of the rest does (see log_sum).
  template <typename T>
  struct Terms {
    std::vector<typename Wide<T>::W>& e;
    std::vector<typename Wide<T>::W>& shifts;  // (z_i - max)/t, exact but for the division by t
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
      if (t != 1) {
        // In f64 z_i - max can overflow where (z_i - max)/t is moderate (t near DBL_MAX): then
        // halve all three (exact, or off by a subnormal bit that such a difference cannot see).
        // Below t = 2^-512 the quotient's products (t q ≈ z_i - max) can underflow and lose bits
        // (338 ULP at t = 1.5 · 2^-1060 with tiny logits): then both go 2^600 up, the same quotient
        // exactly (a difference that overflows so is -inf: its shift is, its term 0).
        if (!std::isfinite(X::approx(a))) a = X::div(X::difference(z[i] / 2, s.max / 2), X::from(t / 2));
        else if (std::is_same_v<T, double> && t < 0x1p-512) a = X::div(X::ldexp(a, 600), X::from(std::ldexp(t, 600)));
        else a = X::div(a, X::from(t));
      }
      shifts[i] = a;
      if (i != s.argmax) largest_rest = std::max(largest_rest, X::approx(a));
    }
    int scale = 0;
    if (X::kScales && largest_rest < kScaleBelow) {
      scale = static_cast<int>(std::min(1000.0, std::floor(-largest_rest / std::numbers::ln2)));
    }
    for (std::size_t i = 0; i < n; ++i) {
      if ((keep && !keep[i]) || z[i] == -kInf<T>) continue;
      e[i] = X::exp_scaled(shifts[i], scale);
    }
    return {e, shifts, scale};
  }

  // num / den rounded once to T. In f64 a quotient below 2^-960 is formed 2^extra times larger
  // and scaled back in its one rounding: the double-double quotient would otherwise be rounded
  // to the subnormal grid first and then again.
  template <typename T>
  static T quotient(const typename Wide<T>::W& num, const typename Wide<T>::W& den) {
    using X = Wide<T>;
    if constexpr (X::kScales) {
      const double q = X::approx(num) / X::approx(den);
      if (q != 0 && std::fabs(q) < 0x1p-960) {
        const int extra = -std::ilogb(q);
        return X::round_scaled(X::div(X::ldexp(num, extra), den), -extra);
      }
    }
    return X::round(X::div(num, den));
  }

  // e_i / total rounded once. In f64 an e_i that gradual underflow rounded (a probability below
  // about 2^-960) is recomputed 2^extra times larger first, exp being exact to scale.
  template <typename T>
  static T ratio(const Terms<T>& terms, std::size_t i, const typename Wide<T>::W& total) {
    using X = Wide<T>;
    if constexpr (X::kScales) {
      const double log2_q = X::approx(terms.shifts[i]) / std::numbers::ln2 + terms.scale - std::log2(X::approx(total));
      if (log2_q < -960 && log2_q > -1200) {  // below -1200 the probability rounds to 0 anyway
        const int extra = static_cast<int>(-log2_q);
        return X::round_scaled(X::div(X::exp_scaled(terms.shifts[i], terms.scale + extra), total), -extra);
      }
    }
    return quotient<T>(terms.e[i], total);
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
    for (std::size_t i = 0; i < n; ++i) y[i] = ratio<T>(terms, i, total);
  }

  // log Σ exp(z_j - max) = log1p(rest), rest = Σ_{j != argmax} exp(z_j - max), as L · 2^-scale.
  // With a scale, rest < n · e^-650, and log1p(rest) = rest (1 - rest/2 + ...) is rest to far
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
    if (l.scale == 0) return X::round_sum(x, term);
    // Work in the scaled domain while x fits there: a result in the normal range is rounded there
    // once (midpoints included) and scaled back exactly; a subnormal one is rounded onto the
    // subnormal grid from the scaled sum.
    if (std::fabs(X::approx(x)) < std::ldexp(1.0, 1000 - l.scale)) {
      const typename X::W scaled_x = X::ldexp(x, l.scale);
      const T r = X::round_sum(scaled_x, term);
      if (std::fabs(double(r)) >= std::ldexp(1.0, l.scale - 1022)) return static_cast<T>(std::ldexp(double(r), -l.scale));
      return X::round_scaled(X::add(scaled_x, term), -l.scale);
    }
    // Otherwise L is below 2^-900 relative to x: only its sign matters, as a sticky bit that
    // decides where x is exactly a rounding midpoint.
    const T sticky = std::numeric_limits<T>::denorm_min();
    return X::round_sum(x, X::from(sign < 0 ? -sticky : sticky));
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
    const Terms<T> terms = exponentials(s, z, n, nullptr, T(1));
    const typename X::W rest = sum_except<T>(terms.e, label);
    const typename X::W total = X::add(rest, terms.e[label]);
    for (std::size_t i = 0; i < n; ++i) {
      if (i != label) g[i] = ratio<T>(terms, i, total);
      else g[i] = X::approx(rest) == 0 ? T(0) : -quotient<T>(rest, total);  // p - 1 = 1 - 1 = +0
    }
  }

  template <typename T>
  static T sigmoid(T x) {
    using X = Wide<T>;
    const typename X::W one = X::from(1);
    if constexpr (X::kScales) {
      // f64 below -700: σ(x) = e^x (1 - e^x + ...) with e^x < 2^-1009, so σ(x) is e^x to far
      // below any rounding; e^x is formed times 2^1100 and rounded once onto the subnormal grid.
      if (x < -700) return X::round_scaled(X::exp_scaled(X::from(x), 1100), -1100);
    }
    if (x >= 0) return X::round(X::div(one, X::add(one, X::exp(X::from(-x)))));
    const typename X::W e = X::exp(X::from(x));  // NaN lands here too and stays NaN
    return X::round(X::div(e, X::add(one, e)));
  }

  // dx_i = y_i (dy_i - s), s = Σ y_j dy_j, exactly and rounded once (softmax_backward.hpp).
  template <typename T>
  static void softmax_backward(const T* y, const T* dy, T* dx, std::size_t n) {
    softmax_backward_row(y, dy, dx, n);
  }

  // The exponent of the largest |p[i]|, or kNoExponent when all are zero.
  static constexpr int kNoExponent = std::numeric_limits<int>::min();
  template <typename T>
  static int top_exponent(const T* p, std::size_t count) {
    int top = kNoExponent;
    for (std::size_t i = 0; i < count; ++i) {
      if (p[i] != 0) top = std::max(top, std::ilogb(double(p[i])));
    }
    return top;
  }

  // Scores s_j = (q_i · k_j)/√d with exact products and compensated sums, softmax of the scores
  // by exact shifts, out = Σ_j e_j v_j / Σ_j e_j rounded once. In f64 a product of two huge
  // entries, or a sum of huge values, could overflow where the exact result does not: for such a
  // key each product is formed from the significands and scaled by 2^-scale_j, its score kept in
  // that scale and only the shift s_j - s_max scaled back (one that overflows is -inf: its weight
  // is 0, rightly). The scale is per key, never per row: scaling every key by the row's largest
  // exponent would flush a subnormal k entry of another key whose small score decides the
  // weights (the fuzzers found it). A column of v whose products e_j v_jc could overflow is brought
  // down likewise and the output scaled back in its one rounding. In f32 (double inside) neither can happen.
  template <typename T>
  static void attention(const T* q, const T* k, const T* v, T* out, std::size_t lq, std::size_t lk,
                        std::size_t d, std::size_t dv, bool causal) {
    using X = Wide<T>;
    using W = typename X::W;
    std::vector<W> scores(lk), e(lk);
    std::vector<int> scale(lk);
    const W root = X::sqrt(X::from(static_cast<T>(d)));
    const int width = static_cast<int>(std::bit_width(std::max(d, lk)));
    for_each_attention_row(q, k, v, out, lq, lk, d, dv, causal, [&](std::size_t i, std::size_t keys, T* o) {
      const T* qi = q + i * d;
      // The score of key j as a long double (its range holds any scaled score), for ordering.
      auto magnitude = [&](std::size_t j) { return std::ldexp(static_cast<long double>(X::approx(scores[j])), scale[j]); };
      std::size_t best = 0;
      for (std::size_t j = 0; j < keys; ++j) {
        int top = kNoExponent;  // the exponent of the largest product |q_c k_jc|, within 1
        for (std::size_t c = 0; c < d; ++c) {
          if (qi[c] != 0 && k[j * d + c] != 0) top = std::max(top, std::ilogb(qi[c]) + std::ilogb(k[j * d + c]));
        }
        const bool shrink = top != kNoExponent && top + 2 + width > 1000;
        scale[j] = shrink ? top + 2 : 0;
        typename X::Sum dot;
        for (std::size_t c = 0; c < d; ++c) {
          if (!shrink) {
            dot.add(X::product(qi[c], k[j * d + c]));
            continue;
          }
          // Each product exactly, from the significands, then scaled: only a product 2^-1074
          // below the key's largest is lost, never an entry of q or k by itself.
          int a = 0, b = 0;
          const T mq = std::frexp(qi[c], &a), mk = std::frexp(k[j * d + c], &b);
          dot.add(X::ldexp(X::product(mq, mk), a + b - scale[j]));
        }
        scores[j] = X::div(dot.value(), root);  // the score times 2^-scale_j
        if (j == 0) continue;
        const bool higher = scale[j] == scale[best] ? X::approx(X::sub(scores[j], scores[best])) > 0 : magnitude(j) > magnitude(best);
        if (higher) best = j;
      }
      typename X::Sum den;
      for (std::size_t j = 0; j < keys; ++j) {
        // Both scores in the larger of the two scales (exact where it matters: the other score
        // is then far smaller, or the shift overflows to -inf), then scaled back.
        const int common = std::max(scale[j], scale[best]);
        W shift = X::ldexp(X::sub(X::ldexp(scores[j], scale[j] - common), X::ldexp(scores[best], scale[best] - common)), common);
        if (!std::isfinite(X::approx(shift))) shift = X::from(-kInf<T>);
        den.add(e[j] = X::exp(shift));
      }
      for (std::size_t c = 0; c < dv; ++c) {
        // Scaled down only where this column's largest product e_j v_jc could overflow the sum:
        // scaling by the whole of v would flush the subnormal values of another column.
        int top = kNoExponent;
        for (std::size_t j = 0; j < keys; ++j) {
          const double ej = static_cast<double>(X::approx(e[j]));
          if (ej != 0 && v[j * dv + c] != 0) top = std::max(top, std::ilogb(ej) + std::ilogb(v[j * dv + c]));
        }
        const int sv = top != kNoExponent && top + 2 + width > 1020 ? top + 2 + width - 1020 : 0;
        typename X::Sum num;
        for (std::size_t j = 0; j < keys; ++j) {
          num.add(X::mul(e[j], X::from(static_cast<T>(std::ldexp(v[j * dv + c], -sv)))));
        }
        o[c] = X::round_scaled(X::div(num.value(), den.value()), sv);
      }
    });
  }
};

}  // namespace

Implementation make_accurate() {
  Implementation impl{"accurate", kernels_of<Accurate, float>(), kernels_of<Accurate, double>()};
  // f16/bf16 through the f64 kernel: one rounding to the format, nothing else.
  set_reduced_kernels<Accurate, double>(impl);
  return impl;
}

}  // namespace softcert::lib

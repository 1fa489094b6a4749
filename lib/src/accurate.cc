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
#include <cmath>
#include <vector>

#include "algorithms.hpp"
#include "attention.hpp"
#include "kernels.hpp"
#include "wide.hpp"

namespace softcert::lib {
namespace {

struct Accurate {
  // exp(z_i - max) for every entry (0 for -inf and masked-out entries), in the wide type.
  template <typename T>
  static std::vector<typename Wide<T>::W>& exponentials(const RowScan<T>& s, const T* z, std::size_t n,
                                                       const uint8_t* keep, T t) {
    using X = Wide<T>;
    thread_local std::vector<typename X::W> e;
    e.assign(n, X::from(0));
    for (std::size_t i = 0; i < n; ++i) {
      if ((keep && !keep[i]) || z[i] == -kInf<T>) continue;
      typename X::W a = X::difference(z[i], s.max);
      if (t != 1) a = X::div(a, X::from(t));
      e[i] = X::exp(a);
    }
    return e;
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
    const auto& e = exponentials(s, z, n, keep, t);
    const typename X::W total = X::add(sum_except<T>(e, s.argmax), e[s.argmax]);
    for (std::size_t i = 0; i < n; ++i) y[i] = X::round(X::div(e[i], total));
  }

  // log Σ exp(z_j - max) = log1p(Σ_{j != argmax} exp(z_j - max)).
  template <typename T>
  static typename Wide<T>::W log_sum(const RowScan<T>& s, const T* z, std::size_t n) {
    return Wide<T>::log1p(sum_except<T>(exponentials(s, z, n, nullptr, T(1)), s.argmax));
  }

  template <typename T>
  static void log_softmax(const RowScan<T>& s, const T* z, T* y, std::size_t n) {
    using X = Wide<T>;
    const typename X::W l = log_sum(s, z, n);
    // (z_i - max) - l: an exact non-positive number minus a non-negative one, so no cancellation
    // (and the max entry's exact 0 - 0 stays +0).
    for (std::size_t i = 0; i < n; ++i) y[i] = X::round(X::sub(X::difference(z[i], s.max), l));
  }

  template <typename T>
  static T logsumexp(const RowScan<T>& s, const T* z, std::size_t n) {
    using X = Wide<T>;
    return X::round(X::add(X::from(s.max), log_sum(s, z, n)));
  }

  template <typename T>
  static T cross_entropy(const RowScan<T>& s, const T* z, std::size_t label, std::size_t n) {
    using X = Wide<T>;
    return X::round(X::add(X::difference(s.max, z[label]), log_sum(s, z, n)));
  }

  template <typename T>
  static void cross_entropy_grad(const RowScan<T>& s, const T* z, std::size_t label, T* g, std::size_t n) {
    using X = Wide<T>;
    const auto& e = exponentials(s, z, n, nullptr, T(1));
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

  // dx_i = y_i (dy_i - Σ y_j dy_j) in double-double for both types: the dot product of exact
  // products is kept to 106 bits, so dy_i - Σ keeps its value where the two nearly cancel (a
  // one-hot y makes dx exactly the tiny remainder), which no width short of that keeps.
  template <typename T>
  static void softmax_backward(const T* y, const T* dy, T* dx, std::size_t n) {
    dd::DD dot{0, 0};
    for (std::size_t j = 0; j < n; ++j) dot = dd::add(dot, dd::two_prod(y[j], dy[j]));
    for (std::size_t i = 0; i < n; ++i) {
      const dd::DD r = dd::mul(dd::sub(dd::DD{static_cast<double>(dy[i]), 0}, dot), static_cast<double>(y[i]));
      dx[i] = static_cast<T>(r.hi + r.lo);
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

// `stable`: the algorithm the tutorial teaches, in the working type T. Subtract the row max,
// exponentiate, sum (recursively), normalise; lse = m + log Σ; log_softmax = (z - m) - log Σ;
// cross-entropy = lse - z_y; gradient = p - onehot. Its error is what oracle/src/bounds.cc bounds
// for "the standard algorithm". Dot products (softmax_backward's Σ y_j dy_j and attention's q·k
// and Σ p_j v_j) accumulate in long double and round once: that is within the same bounds, and
// no intermediate product or partial sum of finite inputs can overflow into inf − inf = NaN
// (DESIGN.md §2: finite inputs never give NaN).
#include <cmath>
#include <vector>

#include "algorithms.hpp"
#include "attention.hpp"
#include "kernels.hpp"

namespace softcert::lib {
namespace {

struct Stable {
  template <typename T>
  static void softmax(const RowScan<T>& s, const T* z, T* y, std::size_t n, const uint8_t* keep, T t) {
    T sum = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (keep && !keep[i]) {
        y[i] = 0;
        continue;
      }
      // -inf entries: exp(-inf) = 0. A finite z_i - max that overflows T (a temperature of
      // 1e38 makes it matter) is taken in long double: the shift scaled by t is moderate.
      const T shift = z[i] - s.max;
      y[i] = std::isinf(shift) && std::isfinite(z[i])
                 ? std::exp(static_cast<T>((static_cast<long double>(z[i]) - s.max) / t))
                 : std::exp(shift / t);
      sum += y[i];
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (!keep || keep[i]) y[i] /= sum;
    }
  }

  template <typename T>
  static T log_sum(const RowScan<T>& s, const T* z, std::size_t n) {
    T sum = 0;
    for (std::size_t i = 0; i < n; ++i) sum += std::exp(z[i] - s.max);
    return std::log(sum);
  }

  template <typename T>
  static void log_softmax(const RowScan<T>& s, const T* z, T* y, std::size_t n) {
    const T l = log_sum(s, z, n);
    for (std::size_t i = 0; i < n; ++i) y[i] = (z[i] - s.max) - l;
  }

  template <typename T>
  static T logsumexp(const RowScan<T>& s, const T* z, std::size_t n) {
    return s.max + log_sum(s, z, n);
  }

  template <typename T>
  static T cross_entropy(const RowScan<T>& s, const T* z, std::size_t label, std::size_t n) {
    return logsumexp(s, z, n) - z[label];
  }

  template <typename T>
  static void cross_entropy_grad(const RowScan<T>& s, const T* z, std::size_t label, T* g, std::size_t n) {
    softmax(s, z, g, n, nullptr, T(1));
    g[label] -= 1;
  }

  template <typename T>
  static T sigmoid(T x) {
    if (x >= 0) return 1 / (1 + std::exp(-x));
    const T e = std::exp(x);  // NaN lands here too and stays NaN
    return e / (1 + e);
  }

  template <typename T>
  static void softmax_backward(const T* y, const T* dy, T* dx, std::size_t n) {
    using Acc = long double;
    Acc dot = 0;
    for (std::size_t j = 0; j < n; ++j) dot += Acc(y[j]) * Acc(dy[j]);
    for (std::size_t i = 0; i < n; ++i) dx[i] = static_cast<T>(Acc(y[i]) * (Acc(dy[i]) - dot));
  }

  template <typename T>
  static void attention(const T* q, const T* k, const T* v, T* out, std::size_t lq, std::size_t lk,
                        std::size_t d, std::size_t dv, bool causal) {
    std::vector<T> scores(lk), p(lk);
    const T root = std::sqrt(static_cast<T>(d));
    for_each_attention_row(q, k, v, out, lq, lk, d, dv, causal, [&](std::size_t i, std::size_t keys, T* o) {
      for (std::size_t j = 0; j < keys; ++j) {
        long double dot = 0;
        for (std::size_t c = 0; c < d; ++c) dot += static_cast<long double>(q[i * d + c]) * k[j * d + c];
        scores[j] = static_cast<T>(dot / root);
      }
      const RowScan<T> s = scan_row(scores.data(), keys);
      if (s.kind == RowCase::regular) softmax(s, scores.data(), p.data(), keys, nullptr, T(1));
      else softmax_special(s, scores.data(), p.data(), keys);
      for (std::size_t c = 0; c < dv; ++c) {
        long double acc = 0;
        for (std::size_t j = 0; j < keys; ++j) acc += static_cast<long double>(p[j]) * v[j * dv + c];
        o[c] = static_cast<T>(acc);
      }
    });
  }
};

}  // namespace

Implementation make_stable() {
  Implementation impl{"stable", kernels_of<Stable, float>(), kernels_of<Stable, double>()};
  // f16/bf16 in float, as frameworks compute half precision.
  set_reduced_kernels<Stable, float>(impl);
  return impl;
}

}  // namespace softcert::lib

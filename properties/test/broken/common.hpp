// What every broken plugin shares: a CORRECT, self-contained implementation of the softcert plugin
// ABI (DESIGN.md §2 and §3): the tutorial's stable algorithm with the strict special values of
// lib/src/special.hpp and the input validation of lib/src/kernels.hpp, written so that each step
// is a hook. A broken plugin (one .cc each) derives from Stable<Itself> (CRTP), overrides exactly
// one hook with its bug, and exports the kernels its bug touches with the BROKEN_EXPORT_* macros.
//
// Hooks, from the smallest step to the whole ABI call (each calls the next ones through D::, so an
// override anywhere is seen everywhere above it):
//   classify(z, n, keep)            one scan: NaN / +inf / only -inf / regular, and the finite max
//   shift(scan)                     the value subtracted before exp (the row max)
//   scale(x, t)                     applies the temperature: x / t
//   exp_fn(x)                       exp
//   accumulate(sum, x)              sum += x
//   exp_sum(z, e, n, m, t, keep)    e_i = exp((z_i - m) / t) (when e is not null), returns Σ e_i
//   softmax_regular / log_sum / log_softmax_regular / logsumexp_regular / cross_entropy_regular /
//   cross_entropy_grad_regular      a row without NaN, +inf, or only -inf
//   *_special                       the other rows (DESIGN.md §2, strict)
//   *_row, sigmoid_one, softmax_backward_row, attended_keys, score_scale
//   softmax, log_softmax, ... attention    the ABI kernels: validation, then the row loop
//
// Self-contained on purpose: a plugin links nothing but the C++ standard library and libm, as a
// third party's would.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "softcert/abi.h"

namespace broken {
// Internal linkage for everything here (one plugin is one translation unit): only the ABI
// symbols defined by the BROKEN_* macros below leave the shared library.
namespace {

using std::size_t;

template <typename T>
inline constexpr T kInf = std::numeric_limits<T>::infinity();
template <typename T>
inline constexpr T kNaN = std::numeric_limits<T>::quiet_NaN();

enum class Kind { regular, nan, pos_inf, all_neg_inf };

template <typename T>
struct Scan {
  Kind kind = Kind::regular;
  size_t pos_inf = 0;   // number of +inf entries
  size_t finite = 0;    // number of finite entries
  T max = -kInf<T>;     // largest finite entry
  size_t argmax = 0;    // its first index
};

// The correct scan of the z[i] with keep[i] (all when keep is null).
template <typename T>
Scan<T> scan(const T* z, size_t n, const std::uint8_t* keep) {
  Scan<T> s;
  bool nan = false;
  for (size_t i = 0; i < n; ++i) {
    if (keep && !keep[i]) continue;
    const T x = z[i];
    if (std::isnan(x)) {
      nan = true;
    } else if (x == kInf<T>) {
      ++s.pos_inf;
    } else if (x != -kInf<T>) {
      if (s.finite == 0 || x > s.max) s.max = x, s.argmax = i;
      ++s.finite;
    }
  }
  if (nan) s.kind = Kind::nan;
  else if (s.pos_inf > 0) s.kind = Kind::pos_inf;
  else if (s.finite == 0) s.kind = Kind::all_neg_inf;
  return s;
}

template <typename T>
T log_of(size_t k) {
  return static_cast<T>(std::log(static_cast<long double>(k)));
}

// Validation, as softcert's own kernels do it (abi.h return codes), before anything is written.
template <typename T>
bool fits(size_t a, size_t b) {
  return b == 0 || a <= std::numeric_limits<size_t>::max() / b / sizeof(T);
}
template <typename T>
int check_rows(const void* in, const void* out, size_t rows, size_t n) {
  if (in == nullptr || out == nullptr) return SOFTCERT_ERR_NULL;
  if (rows == 0 || n == 0) return SOFTCERT_ERR_EMPTY;
  if (!fits<T>(rows, n)) return SOFTCERT_ERR_SIZE;
  return SOFTCERT_OK;
}
inline int check_labels(const std::int64_t* labels, size_t rows, size_t n) {
  for (size_t r = 0; r < rows; ++r) {
    if (labels[r] < 0 || static_cast<std::uint64_t>(labels[r]) >= n) return SOFTCERT_ERR_LABEL;
  }
  return SOFTCERT_OK;
}

template <typename D>
struct Stable {
  // ---- element steps -------------------------------------------------------------------------
  template <typename T>
  static Scan<T> classify(const T* z, size_t n, const std::uint8_t* keep) {
    return scan(z, n, keep);
  }
  template <typename T>
  static T shift(const Scan<T>& s) {
    return s.max;
  }
  template <typename T>
  static T scale(T x, T t) {
    return x / t;
  }
  template <typename T>
  static T exp_fn(T x) {
    return std::exp(x);
  }
  template <typename T>
  static void accumulate(T& sum, T x) {
    sum += x;
  }
  template <typename T>
  static T exp_sum(const T* z, T* e, size_t n, T m, T t, const std::uint8_t* keep) {
    T sum = 0;
    for (size_t i = 0; i < n; ++i) {
      if (keep && !keep[i]) {
        if (e) e[i] = 0;
        continue;
      }
      const T ei = D::exp_fn(D::scale(z[i] - m, t));  // -inf entries: exp(-inf) = 0
      if (e) e[i] = ei;
      D::accumulate(sum, ei);
    }
    return sum;
  }

  // ---- softmax -------------------------------------------------------------------------------
  template <typename T>
  static void softmax_regular(const Scan<T>& s, const T* z, T* y, size_t n, const std::uint8_t* keep, T t) {
    const T sum = D::exp_sum(z, y, n, D::shift(s), t, keep);
    for (size_t i = 0; i < n; ++i) {
      if (!keep || keep[i]) y[i] /= sum;
    }
  }
  template <typename T>
  static void softmax_special(const Scan<T>& s, const T* z, T* y, size_t n, const std::uint8_t* keep) {
    for (size_t i = 0; i < n; ++i) {
      if (keep && !keep[i]) y[i] = 0;
      else if (s.kind == Kind::nan) y[i] = kNaN<T>;
      else if (s.kind == Kind::pos_inf && z[i] == kInf<T>) y[i] = T(1) / static_cast<T>(s.pos_inf);
      else y[i] = 0;  // -inf entries, finite entries next to +inf, and a row of only -inf
    }
  }
  template <typename T>
  static void softmax_row(const T* z, T* y, size_t n, const std::uint8_t* keep, T t) {
    const Scan<T> s = D::classify(z, n, keep);
    if (s.kind == Kind::regular) D::softmax_regular(s, z, y, n, keep, t);
    else D::softmax_special(s, z, y, n, keep);
  }

  // ---- log-sum-exp and log_softmax -----------------------------------------------------------
  template <typename T>
  static T log_sum(const Scan<T>& s, const T* z, size_t n) {
    return std::log(D::exp_sum(z, static_cast<T*>(nullptr), n, D::shift(s), T(1), nullptr));
  }
  template <typename T>
  static void log_softmax_regular(const Scan<T>& s, const T* z, T* y, size_t n) {
    const T m = D::shift(s), l = D::log_sum(s, z, n);
    for (size_t i = 0; i < n; ++i) y[i] = (z[i] - m) - l;
  }
  template <typename T>
  static void log_softmax_special(const Scan<T>& s, const T* z, T* y, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      if (s.kind == Kind::nan) y[i] = kNaN<T>;
      else if (s.kind == Kind::pos_inf && z[i] == kInf<T>) y[i] = -log_of<T>(s.pos_inf);
      else y[i] = -kInf<T>;
    }
  }
  template <typename T>
  static void log_softmax_row(const T* z, T* y, size_t n) {
    const Scan<T> s = D::classify(z, n, nullptr);
    if (s.kind == Kind::regular) D::log_softmax_regular(s, z, y, n);
    else D::log_softmax_special(s, z, y, n);
  }
  template <typename T>
  static T logsumexp_regular(const Scan<T>& s, const T* z, size_t n) {
    return D::shift(s) + D::log_sum(s, z, n);
  }
  template <typename T>
  static T logsumexp_special(const Scan<T>& s) {
    return s.kind == Kind::nan ? kNaN<T> : s.kind == Kind::pos_inf ? kInf<T> : -kInf<T>;
  }
  template <typename T>
  static T logsumexp_row(const T* z, size_t n) {
    const Scan<T> s = D::classify(z, n, nullptr);
    return s.kind == Kind::regular ? D::logsumexp_regular(s, z, n) : D::logsumexp_special(s);
  }

  // ---- cross-entropy and its gradient p - onehot ---------------------------------------------
  template <typename T>
  static T cross_entropy_regular(const Scan<T>& s, const T* z, size_t label, size_t n) {
    return D::logsumexp_regular(s, z, n) - z[label];
  }
  template <typename T>
  static T cross_entropy_special(const Scan<T>& s, const T* z, size_t label) {
    if (s.kind == Kind::nan) return kNaN<T>;
    if (s.kind == Kind::pos_inf && z[label] == kInf<T>) return log_of<T>(s.pos_inf);
    return kInf<T>;
  }
  template <typename T>
  static void cross_entropy_grad_regular(const Scan<T>& s, const T* z, size_t label, T* g, size_t n) {
    D::softmax_regular(s, z, g, n, nullptr, T(1));
    g[label] -= 1;
  }
  template <typename T>
  static void cross_entropy_grad_special(const Scan<T>& s, const T* z, size_t label, T* g, size_t n) {
    D::softmax_special(s, z, g, n, nullptr);
    if (s.kind == Kind::nan) return;
    if (s.kind == Kind::pos_inf && z[label] == kInf<T>) {
      g[label] = s.pos_inf == 1 ? T(0) : -static_cast<T>(s.pos_inf - 1) / static_cast<T>(s.pos_inf);
    } else {
      g[label] = T(-1);
    }
  }

  // ---- elementwise and backward --------------------------------------------------------------
  template <typename T>
  static T sigmoid_one(T x) {
    if (x >= 0) return 1 / (1 + std::exp(-x));
    const T e = std::exp(x);  // NaN lands here too and stays NaN
    return e / (1 + e);
  }
  template <typename T>
  static void softmax_backward_row(const T* y, const T* dy, T* dx, size_t n) {
    T dot = 0;
    for (size_t j = 0; j < n; ++j) dot += y[j] * dy[j];
    for (size_t i = 0; i < n; ++i) dx[i] = y[i] * (dy[i] - dot);
  }

  // ---- attention -----------------------------------------------------------------------------
  // Causal masking is top-left aligned: row i attends keys j <= i.
  static size_t attended_keys(size_t i, size_t lk, bool causal) { return causal ? std::min(i + 1, lk) : lk; }
  template <typename T>
  static T score_scale(size_t d) {
    return std::sqrt(static_cast<T>(d));
  }
  template <typename T>
  static void attention_rows(const T* q, const T* k, const T* v, T* out, size_t lq, size_t lk, size_t d,
                             size_t dv, bool causal) {
    std::vector<T> scores(lk), p(lk);
    const T root = D::template score_scale<T>(d);
    auto finite = [](const T* a, size_t count) { return std::all_of(a, a + count, [](T x) { return std::isfinite(x); }); };
    for (size_t i = 0; i < lq; ++i) {
      const size_t keys = D::attended_keys(i, lk, causal);
      T* o = out + i * dv;
      if (!finite(q + i * d, d) || !finite(k, keys * d) || !finite(v, keys * dv)) {
        std::fill(o, o + dv, kNaN<T>);  // no limit exists: the row is NaN
        continue;
      }
      for (size_t j = 0; j < keys; ++j) {
        T dot = 0;
        for (size_t c = 0; c < d; ++c) dot += q[i * d + c] * k[j * d + c];
        scores[j] = dot / root;
      }
      D::softmax_row(scores.data(), p.data(), keys, nullptr, T(1));
      for (size_t c = 0; c < dv; ++c) {
        T acc = 0;
        for (size_t j = 0; j < keys; ++j) acc += p[j] * v[j * dv + c];
        o[c] = acc;
      }
    }
  }

  // ---- the ABI kernels -----------------------------------------------------------------------
  template <typename T>
  static int softmax(const T* x, T* y, size_t rows, size_t n) {
    if (int e = check_rows<T>(x, y, rows, n)) return e;
    for (size_t r = 0; r < rows; ++r) D::softmax_row(x + r * n, y + r * n, n, nullptr, T(1));
    return SOFTCERT_OK;
  }
  template <typename T>
  static int softmax_temperature(const T* x, T* y, size_t rows, size_t n, T t) {
    if (int e = check_rows<T>(x, y, rows, n)) return e;
    if (!(t > 0) || !std::isfinite(t)) return SOFTCERT_ERR_TEMPERATURE;
    for (size_t r = 0; r < rows; ++r) D::softmax_row(x + r * n, y + r * n, n, nullptr, t);
    return SOFTCERT_OK;
  }
  template <typename T>
  static int masked_softmax(const T* x, const std::uint8_t* keep, T* y, size_t rows, size_t n) {
    if (keep == nullptr) return SOFTCERT_ERR_NULL;
    if (int e = check_rows<T>(x, y, rows, n)) return e;
    for (size_t r = 0; r < rows; ++r) D::softmax_row(x + r * n, y + r * n, n, keep + r * n, T(1));
    return SOFTCERT_OK;
  }
  template <typename T>
  static int log_softmax(const T* x, T* y, size_t rows, size_t n) {
    if (int e = check_rows<T>(x, y, rows, n)) return e;
    for (size_t r = 0; r < rows; ++r) D::log_softmax_row(x + r * n, y + r * n, n);
    return SOFTCERT_OK;
  }
  template <typename T>
  static int logsumexp(const T* x, T* out, size_t rows, size_t n) {
    if (int e = check_rows<T>(x, out, rows, n)) return e;
    for (size_t r = 0; r < rows; ++r) out[r] = D::logsumexp_row(x + r * n, n);
    return SOFTCERT_OK;
  }
  template <typename T>
  static int sigmoid(const T* x, T* y, size_t count) {
    if (int e = check_rows<T>(x, y, 1, count)) return e;
    for (size_t i = 0; i < count; ++i) y[i] = D::sigmoid_one(x[i]);
    return SOFTCERT_OK;
  }
  template <typename T>
  static int cross_entropy(const T* z, const std::int64_t* labels, T* loss, size_t rows, size_t n) {
    if (labels == nullptr) return SOFTCERT_ERR_NULL;
    if (int e = check_rows<T>(z, loss, rows, n)) return e;
    if (int e = check_labels(labels, rows, n)) return e;
    for (size_t r = 0; r < rows; ++r) {
      const T* row = z + r * n;
      const auto label = static_cast<size_t>(labels[r]);
      const Scan<T> s = D::classify(row, n, nullptr);
      loss[r] = s.kind == Kind::regular ? D::cross_entropy_regular(s, row, label, n) : D::cross_entropy_special(s, row, label);
    }
    return SOFTCERT_OK;
  }
  template <typename T>
  static int cross_entropy_grad(const T* z, const std::int64_t* labels, T* grad, size_t rows, size_t n) {
    if (labels == nullptr) return SOFTCERT_ERR_NULL;
    if (int e = check_rows<T>(z, grad, rows, n)) return e;
    if (int e = check_labels(labels, rows, n)) return e;
    for (size_t r = 0; r < rows; ++r) {
      const T* row = z + r * n;
      const auto label = static_cast<size_t>(labels[r]);
      const Scan<T> s = D::classify(row, n, nullptr);
      if (s.kind == Kind::regular) D::cross_entropy_grad_regular(s, row, label, grad + r * n, n);
      else D::cross_entropy_grad_special(s, row, label, grad + r * n, n);
    }
    return SOFTCERT_OK;
  }
  template <typename T>
  static int softmax_backward(const T* y, const T* dy, T* dx, size_t rows, size_t n) {
    if (dy == nullptr) return SOFTCERT_ERR_NULL;
    if (int e = check_rows<T>(y, dx, rows, n)) return e;
    for (size_t r = 0; r < rows; ++r) D::softmax_backward_row(y + r * n, dy + r * n, dx + r * n, n);
    return SOFTCERT_OK;
  }
  template <typename T>
  static int attention(const T* q, const T* k, const T* v, T* out, size_t lq, size_t lk, size_t d, size_t dv, int causal) {
    if (!q || !k || !v || !out) return SOFTCERT_ERR_NULL;
    if (lq == 0 || lk == 0 || d == 0 || dv == 0) return SOFTCERT_ERR_EMPTY;
    if (!fits<T>(lq, d) || !fits<T>(lk, d) || !fits<T>(lk, dv) || !fits<T>(lq, dv)) return SOFTCERT_ERR_SIZE;
    D::attention_rows(q, k, v, out, lq, lk, d, dv, causal != 0);
    return SOFTCERT_OK;
  }
};

}  // namespace
}  // namespace broken

// ---- exports: each macro defines the f32 and f64 symbol of one ABI kernel, calling A's ---------
#define BROKEN_API extern "C" __attribute__((visibility("default")))

#define BROKEN_PLUGIN(NAME)                                                  \
  BROKEN_API int softcert_abi_version(void) { return SOFTCERT_ABI_VERSION; } \
  BROKEN_API const char* softcert_name(void) { return "broken-" NAME; }

#define BROKEN_EXPORT_SOFTMAX(A)                                                                                   \
  BROKEN_API int softcert_softmax_f32(const float* x, float* y, size_t rows, size_t n) { return A::softmax(x, y, rows, n); } \
  BROKEN_API int softcert_softmax_f64(const double* x, double* y, size_t rows, size_t n) { return A::softmax(x, y, rows, n); }

#define BROKEN_EXPORT_LOG_SOFTMAX(A)                                                                                     \
  BROKEN_API int softcert_log_softmax_f32(const float* x, float* y, size_t rows, size_t n) { return A::log_softmax(x, y, rows, n); } \
  BROKEN_API int softcert_log_softmax_f64(const double* x, double* y, size_t rows, size_t n) { return A::log_softmax(x, y, rows, n); }

#define BROKEN_EXPORT_LOGSUMEXP(A)                                                                                     \
  BROKEN_API int softcert_logsumexp_f32(const float* x, float* out, size_t rows, size_t n) { return A::logsumexp(x, out, rows, n); } \
  BROKEN_API int softcert_logsumexp_f64(const double* x, double* out, size_t rows, size_t n) { return A::logsumexp(x, out, rows, n); }

// softmax, log_softmax and logsumexp: the family most plugins export next to their broken kernel.
#define BROKEN_EXPORT_SOFTMAX_FAMILY(A) BROKEN_EXPORT_SOFTMAX(A) BROKEN_EXPORT_LOG_SOFTMAX(A) BROKEN_EXPORT_LOGSUMEXP(A)

#define BROKEN_EXPORT_SOFTMAX_TEMPERATURE(A)                                                             \
  BROKEN_API int softcert_softmax_temperature_f32(const float* x, float* y, size_t rows, size_t n, float t) {   \
    return A::softmax_temperature(x, y, rows, n, t);                                                     \
  }                                                                                                      \
  BROKEN_API int softcert_softmax_temperature_f64(const double* x, double* y, size_t rows, size_t n, double t) { \
    return A::softmax_temperature(x, y, rows, n, t);                                                     \
  }

#define BROKEN_EXPORT_SIGMOID(A)                                                                                        \
  BROKEN_API int softcert_sigmoid_f32(const float* x, float* y, size_t count) { return A::sigmoid(x, y, count); } \
  BROKEN_API int softcert_sigmoid_f64(const double* x, double* y, size_t count) { return A::sigmoid(x, y, count); }

#define BROKEN_EXPORT_CROSS_ENTROPY(A)                                                                           \
  BROKEN_API int softcert_cross_entropy_f32(const float* z, const int64_t* labels, float* loss, size_t rows, size_t n) {   \
    return A::cross_entropy(z, labels, loss, rows, n);                                                           \
  }                                                                                                              \
  BROKEN_API int softcert_cross_entropy_f64(const double* z, const int64_t* labels, double* loss, size_t rows, size_t n) { \
    return A::cross_entropy(z, labels, loss, rows, n);                                                           \
  }

#define BROKEN_EXPORT_CROSS_ENTROPY_GRAD(A)                                                                           \
  BROKEN_API int softcert_cross_entropy_grad_f32(const float* z, const int64_t* labels, float* grad, size_t rows, size_t n) {   \
    return A::cross_entropy_grad(z, labels, grad, rows, n);                                                           \
  }                                                                                                                   \
  BROKEN_API int softcert_cross_entropy_grad_f64(const double* z, const int64_t* labels, double* grad, size_t rows, size_t n) { \
    return A::cross_entropy_grad(z, labels, grad, rows, n);                                                           \
  }

#define BROKEN_EXPORT_SOFTMAX_BACKWARD(A)                                                                      \
  BROKEN_API int softcert_softmax_backward_f32(const float* y, const float* dy, float* dx, size_t rows, size_t n) {   \
    return A::softmax_backward(y, dy, dx, rows, n);                                                            \
  }                                                                                                            \
  BROKEN_API int softcert_softmax_backward_f64(const double* y, const double* dy, double* dx, size_t rows, size_t n) { \
    return A::softmax_backward(y, dy, dx, rows, n);                                                            \
  }

#define BROKEN_EXPORT_MASKED_SOFTMAX(A)                                                                         \
  BROKEN_API int softcert_masked_softmax_f32(const float* x, const uint8_t* keep, float* y, size_t rows, size_t n) {   \
    return A::masked_softmax(x, keep, y, rows, n);                                                              \
  }                                                                                                             \
  BROKEN_API int softcert_masked_softmax_f64(const double* x, const uint8_t* keep, double* y, size_t rows, size_t n) { \
    return A::masked_softmax(x, keep, y, rows, n);                                                              \
  }

#define BROKEN_EXPORT_ATTENTION(A)                                                                                     \
  BROKEN_API int softcert_attention_f32(const float* q, const float* k, const float* v, float* out, size_t lq,          \
                                        size_t lk, size_t d, size_t dv, int causal) {                                  \
    return A::attention(q, k, v, out, lq, lk, d, dv, causal);                                                          \
  }                                                                                                                    \
  BROKEN_API int softcert_attention_f64(const double* q, const double* k, const double* v, double* out, size_t lq,     \
                                        size_t lk, size_t d, size_t dv, int causal) {                                  \
    return A::attention(q, k, v, out, lq, lk, d, dv, causal);                                                          \
  }

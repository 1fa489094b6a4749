// The special-value semantics of DESIGN.md §2, strict profile, shared by every lib algorithm:
// one scan classifies a row, and the outputs of a row that is not regular are written here, so
// no algorithm can get them differently.
//
//   NaN anywhere          every output NaN
//   k > 0 entries +inf    softmax 1/k there, +0 elsewhere; log_softmax -log k there, -inf
//                         elsewhere; lse +inf; cross-entropy log k if z_y = +inf, else +inf
//   only -inf             softmax all +0 (softcert's choice: "attends to nothing", no NaN);
//                         log_softmax all -inf; lse -inf; cross-entropy +inf
// A regular row (no NaN, no +inf, at least one finite entry) is left to the algorithm; its -inf
// entries contribute exactly 0 there.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace softcert::lib {

enum class RowCase { regular, nan, pos_inf, all_neg_inf };

template <typename T>
struct RowScan {
  RowCase kind = RowCase::regular;
  std::size_t pos_inf = 0;  // number of +inf entries
  std::size_t finite = 0;   // number of finite entries
  T max = -std::numeric_limits<T>::infinity();  // largest finite entry (regular rows)
  std::size_t argmax = 0;                        // its first index
};

// Scans z[i] for the i with keep[i] (all when keep is null).
template <typename T>
RowScan<T> scan_row(const T* z, std::size_t n, const std::uint8_t* keep = nullptr) {
  RowScan<T> s;
  bool nan = false;
  for (std::size_t i = 0; i < n; ++i) {
    if (keep && !keep[i]) continue;
    const T x = z[i];
    if (std::isnan(x)) {
      nan = true;
    } else if (x == std::numeric_limits<T>::infinity()) {
      ++s.pos_inf;
    } else if (x != -std::numeric_limits<T>::infinity()) {
      if (s.finite == 0 || x > s.max) s.max = x, s.argmax = i;
      ++s.finite;
    }
  }
  if (nan) s.kind = RowCase::nan;
  else if (s.pos_inf > 0) s.kind = RowCase::pos_inf;
  else if (s.finite == 0) s.kind = RowCase::all_neg_inf;
  return s;
}

template <typename T>
constexpr T kNaN = std::numeric_limits<T>::quiet_NaN();
template <typename T>
constexpr T kInf = std::numeric_limits<T>::infinity();

// 1/k and log k, correctly rounded for the k that occur (k <= n): division is correctly rounded,
// and log k through long double rounds once more only far from a tie.
template <typename T>
T reciprocal(std::size_t k) {
  return T(1) / static_cast<T>(k);
}
template <typename T>
T log_of(std::size_t k) {
  return static_cast<T>(std::log(static_cast<long double>(k)));
}

// Writes the softmax of a row that is not regular (masked-out entries, keep[i] == 0, get +0).
template <typename T>
void softmax_special(const RowScan<T>& s, const T* z, T* y, std::size_t n, const std::uint8_t* keep = nullptr) {
  for (std::size_t i = 0; i < n; ++i) {
    if (keep && !keep[i]) y[i] = T(0);
    else if (s.kind == RowCase::nan) y[i] = kNaN<T>;
    else if (s.kind == RowCase::pos_inf && z[i] == kInf<T>) y[i] = reciprocal<T>(s.pos_inf);
    else y[i] = T(0);
  }
}

template <typename T>
void log_softmax_special(const RowScan<T>& s, const T* z, T* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (s.kind == RowCase::nan) y[i] = kNaN<T>;
    else if (s.kind == RowCase::pos_inf && z[i] == kInf<T>) y[i] = s.pos_inf == 1 ? T(0) : -log_of<T>(s.pos_inf);  // +0, as 0 - 0
    else y[i] = -kInf<T>;
  }
}

template <typename T>
T logsumexp_special(const RowScan<T>& s) {
  return s.kind == RowCase::nan ? kNaN<T> : s.kind == RowCase::pos_inf ? kInf<T> : -kInf<T>;
}

template <typename T>
T cross_entropy_special(const RowScan<T>& s, const T* z, std::size_t label) {
  if (s.kind == RowCase::nan) return kNaN<T>;
  if (s.kind == RowCase::pos_inf && z[label] == kInf<T>) return log_of<T>(s.pos_inf);
  return kInf<T>;
}

// p - onehot(label) for a row that is not regular.
template <typename T>
void cross_entropy_grad_special(const RowScan<T>& s, const T* z, std::size_t label, T* g, std::size_t n) {
  softmax_special(s, z, g, n);
  if (s.kind == RowCase::nan) return;
  if (s.kind == RowCase::pos_inf && z[label] == kInf<T>) {
    // 1/k - 1 = -(k - 1)/k in one rounding; exactly +0 when k = 1.
    g[label] = s.pos_inf == 1 ? T(0) : -static_cast<T>(s.pos_inf - 1) / static_cast<T>(s.pos_inf);
  } else {
    g[label] = T(-1);
  }
}

}  // namespace softcert::lib

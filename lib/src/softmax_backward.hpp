// One row of softmax_backward, dx_i = y_i (dy_i - s), s = Σ y_j dy_j, computed exactly and rounded
// once: `accurate`'s kernel for f32 and f64, and the row `simd` falls back to where its f64-lane
// bound cannot promise 1 ULP or the row has a non-finite entry (simd_backward.cc).
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include "double_double.hpp"

namespace softcert::lib {

// Both types in double arithmetic with error-free transformations: every product is exact
// (TwoProd), the sum is distilled twice (Ogita, Rump & Oishi's VecSum) to three doubles, about 150
// bits, so dy_i - s keeps its value where the two nearly cancel (a one-hot y makes dx the tiny
// remainder); the result is rounded once from all its bits. Powers of two keep every step inside
// the double range: the products are formed times 2^kp (the largest near 2^(960 - log2 2n), so
// neither a tiny nor a huge row leaves the range), dy_i - s times 2^kr_i, and y_i (dy_i - s) from
// factors normalised to [1, 2). A row with a non-finite entry is plain arithmetic: NaN and inf
// propagate as IEEE has them.
template <typename T>
void softmax_backward_row(const T* y, const T* dy, T* dx, std::size_t n) {
  constexpr int kNone = std::numeric_limits<int>::min();
  bool finite = true;
  for (std::size_t j = 0; j < n; ++j) finite = finite && std::isfinite(y[j]) && std::isfinite(dy[j]);
  if (!finite) {
    double dot = 0;
    for (std::size_t j = 0; j < n; ++j) dot += double(y[j]) * double(dy[j]);
    for (std::size_t i = 0; i < n; ++i) dx[i] = static_cast<T>(double(y[i]) * (double(dy[i]) - dot));
    return;
  }
  int top = kNone;  // exponent of the largest product y_j dy_j
  for (std::size_t j = 0; j < n; ++j) {
    if (y[j] != 0 && dy[j] != 0) top = std::max(top, std::ilogb(double(y[j])) + std::ilogb(double(dy[j])));
  }
  const int kp = top == kNone ? 0 : 960 - static_cast<int>(std::bit_width(n)) - top;
  thread_local std::vector<double> terms;
  terms.clear();
  for (std::size_t j = 0; j < n; ++j) {
    if (y[j] == 0 || dy[j] == 0) continue;
    const int a = -std::ilogb(double(y[j]));
    const dd::DD p = dd::two_prod(std::ldexp(double(y[j]), a), std::ldexp(double(dy[j]), kp - a));
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
  double s1 = 0, s2 = 0, s3 = 0;  // s · 2^kp = s1 + s2 + s3
  if (!terms.empty()) s1 = terms.back();
  if (terms.size() > 1) s2 = terms[terms.size() - 2];
  for (std::size_t j = 0; j + 2 < terms.size(); ++j) s3 += terms[j];
  for (std::size_t i = 0; i < n; ++i) {
    const double yi = y[i], dyi = dy[i];
    // dy_i - s times 2^kr, kr <= kp such that dy_i 2^kr stays finite.
    const int kr = dyi == 0 ? kp : std::min(kp, 1000 - std::ilogb(dyi));
    const int down = kr - kp;
    dd::DD r = dd::two_sum(std::ldexp(dyi, kr), -std::ldexp(s1, down));
    r = dd::add(dd::add(r, -std::ldexp(s2, down)), -std::ldexp(s3, down));
    if (yi == 0 || r.hi == 0) {
      dx[i] = static_cast<T>(yi * r.hi);  // a zero with IEEE's sign
      continue;
    }
    const int ay = -std::ilogb(yi), ar = -std::ilogb(r.hi);
    const dd::DD product = dd::mul(dd::ldexp(r, ar), std::ldexp(yi, ay));
    dx[i] = dd::round_to<T>(product, -(ay + ar + kr));
  }
}

}  // namespace softcert::lib

// `simd`'s f32 softmax_backward, dx_i = y_i (dy_i - s), s = Σ_j y_j dy_j, in f64 lanes with Google
// Highway, dispatched at run time like simd.cc (AVX-512 "AVX3", AVX2, SSE4, scalar fallback);
// within 1 ULP like `accurate`, nearly always correctly rounded. Two passes over a row:
//   1. s as a double-double H + L. A product of two floats is exact in f64 (48 bits, nonzero ones
//      between 2^-298 and 2^256), and the products are summed with TwoSum (Ogita, Rump & Oishi's
//      Sum2) in two sets of lanes: hi += p and lo += q, q the addition's exact error, and
//      size += |q|; the lanes merge by TwoSum too, and H + L = TwoSum(hi, lo). So H + L = s + the
//      rounding error of summing the m q's alone: |H + L - s| <= E = γ_(m-1) Σ|q| <= 2 m u size
//      (u = 2^-53; m < n + 3 lanes, m u far below 1/4 for any row that fits in memory, so the
//      factor 2 also covers size's own rounding).
//   2. b_i = (dy_i - H) - L and y_i b_i, each rounded in f64, then rounded once to f32. With
//      r_i = dy_i - s, |b_i - r_i| <= E + 1.0001 u |L| + 2.0001 u |b_i| (the two subtractions'
//      errors, bounded through |b_i|). Where |b_i| >= T = 2^32 (E + 2u|L|), b_i is within 2^-31.99
//      of r_i, the f64 product within 2^-31.9 of dx_i, and the f32 result within 0.5 + 2^-7.9 ULP:
//      correctly rounded unless dx_i lies that close to a rounding midpoint (the actual error is
//      near 2^-52 relative, not the bound).
// A row where some |b_i| < T (dy_i ≈ s, or s the remainder of a cancellation below its rounding
// errors), where some |y_i b_i| >= 2^127 (the rounding could reach inf on the wrong side, and the
// portable targets' DemoteTo saturates) or with a non-finite entry goes, whole, to `accurate`'s
// exact routine (softmax_backward.hpp): accurate's result bit for bit. A non-finite y_j or dy_j
// makes its product inf or NaN, and then H: pass 1 finds those rows for free.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <type_traits>

// SSSE3 would only add compile time: every x86 CPU with SSSE3 but not SSE4 is long retired.
#ifndef HWY_DISABLED_TARGETS
#define HWY_DISABLED_TARGETS HWY_SSSE3
#endif

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "simd_backward.cc"
#include <hwy/foreach_target.h>  // re-includes this file once per target
#include <hwy/highway.h>

#include "simd_lanes-inl.h"

#include "double_double.hpp"
#include "kernels.hpp"
#include "simd_backward.hpp"
#include "softmax_backward.hpp"

namespace softcert::lib {
namespace {
// accurate's row (softmax_backward.hpp), compiled once for the baseline CPU (below, HWY_ONCE): an
// inline function instantiated in per-target code could be linked, AVX-512 and all, into accurate.
void ExactRow(const float* y, const float* dy, float* dx, std::size_t n);
}  // namespace
}  // namespace softcert::lib

HWY_BEFORE_NAMESPACE();
namespace softcert::lib {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

constexpr double kU = 0x1p-53;       // the unit roundoff of f64
constexpr double kMargin = 0x1p32;   // T / (E + 2u|L|): b_i within 2^-32 of r_i, relative
constexpr double kHuge = 0x1p127;    // a row with some |y_i b_i| from here on goes to the exact routine

// Sum2's lanes: Σ p = hi + Σ q exactly, lo = Σ q rounded, size = Σ |q| rounded.
template <class D>
struct DotLanes {
  hn::Vec<D> hi, lo, size;

  explicit DotLanes(D d) : hi(hn::Zero(d)), lo(hn::Zero(d)), size(hn::Zero(d)) {}

  HWY_INLINE void Add(hn::Vec<D> p) {  // TwoSum(hi, p): any magnitudes
    hn::Vec<D> s, q;
    TwoSum(hi, p, s, q);
    hi = s;
    lo = hn::Add(lo, q);
    size = hn::Add(size, hn::Abs(q));
  }
};

// s = hi + lo, within `error`; hi is not finite where the row has a non-finite entry.
struct Dot {
  double hi, lo, error;
};

// Pass 1 over a row of n entries, in two sets of lanes: TwoSum's chain through hi is one addition
// per vector and the rest of it overlaps (four sets were no faster).
HWY_INLINE Dot DotProduct(const float* y, const float* dy, std::size_t n) {
  const hn::ScalableTag<double> d;
  const hn::Rebind<float, decltype(d)> df;
  const std::size_t lanes = hn::Lanes(d);
  const auto product = [&](hn::Vec<decltype(df)> a, hn::Vec<decltype(df)> b) {
    return hn::Mul(hn::PromoteTo(d, a), hn::PromoteTo(d, b));  // exact
  };
  DotLanes<decltype(d)> a0(d), a1(d);
  std::size_t i = 0;
  for (; i + 2 * lanes <= n; i += 2 * lanes) {
    a0.Add(product(hn::LoadU(df, y + i), hn::LoadU(df, dy + i)));
    a1.Add(product(hn::LoadU(df, y + i + lanes), hn::LoadU(df, dy + i + lanes)));
  }
  if (i + lanes <= n) a0.Add(product(hn::LoadU(df, y + i), hn::LoadU(df, dy + i))), i += lanes;
  if (i < n) a1.Add(product(LoadPartial(df, y + i, n - i), LoadPartial(df, dy + i, n - i)));

  // The lanes' hi merge by TwoSum in scalar, their errors joining lo and size.
  double hi = 0, lo = 0, size = 0;
  HWY_ALIGN double h[hn::MaxLanes(d)], l[hn::MaxLanes(d)], z[hn::MaxLanes(d)];
  for (const DotLanes<decltype(d)>* a : {&a0, &a1}) {
    hn::Store(a->hi, d, h), hn::Store(a->lo, d, l), hn::Store(a->size, d, z);
    for (std::size_t k = 0; k < lanes; ++k) {
      const dd::DD t = dd::two_sum(hi, h[k]);
      hi = t.hi;
      lo += l[k] + t.lo;
      size += z[k] + std::fabs(t.lo);
    }
  }
  // One q per lane of each vector (n padded to whole vectors) and one per merge.
  const auto m = static_cast<double>(n + 3 * lanes);
  const dd::DD s = dd::two_sum(hi, lo);
  return {s.hi, s.lo, 2 * m * kU * size};
}

// Pass 2: dx_i = y_i ((dy_i - H) - L) rounded once to f32. False where some output is not within
// the bound (|b_i| < T) or could overflow: the row is then the exact routine's.
HWY_INLINE bool Gradient(const float* y, const float* dy, float* dx, std::size_t n, const Dot& dot) {
  const hn::ScalableTag<double> d;
  const hn::Rebind<float, decltype(d)> df;
  const std::size_t lanes = hn::Lanes(d);
  const auto hi = hn::Set(d, dot.hi), lo = hn::Set(d, dot.lo);
  // The smallest |b_i| and the largest |y_i b_i| of the row decide.
  auto smallest = hn::Set(d, std::numeric_limits<double>::infinity()), largest = hn::Zero(d);
  // One vector at i, of `count` lanes in the row (all of them but in the last vector).
  const auto step = [&](auto partial, std::size_t i, std::size_t count) {
    constexpr bool kPartial = decltype(partial)::value;
    const auto yi = kPartial ? LoadPartial(df, y + i, count) : hn::LoadU(df, y + i);
    const auto dyi = kPartial ? LoadPartial(df, dy + i, count) : hn::LoadU(df, dy + i);
    const auto b = hn::Sub(hn::Sub(hn::PromoteTo(d, dyi), hi), lo);
    const auto v = hn::Mul(hn::PromoteTo(d, yi), b);
    auto magnitude = hn::Abs(b);
    if constexpr (kPartial) magnitude = hn::IfThenElse(hn::FirstN(d, count), magnitude, smallest);  // not the padding's
    smallest = hn::Min(smallest, magnitude);
    largest = hn::Max(largest, hn::Abs(v));
    if constexpr (kPartial) StorePartial(df, hn::DemoteTo(df, v), dx + i, count);
    else hn::StoreU(hn::DemoteTo(df, v), df, dx + i);
  };
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes) step(std::false_type(), i, lanes);
  if (i < n) step(std::true_type(), i, n - i);
  const double threshold = kMargin * (dot.error + 2 * kU * std::fabs(dot.lo));
  return hn::GetLane(hn::MinOfLanes(d, smallest)) >= threshold && hn::GetLane(hn::MaxOfLanes(d, largest)) < kHuge;
}

void SoftmaxBackwardRows(const float* y, const float* dy, float* dx, std::size_t rows, std::size_t n) {
  for (std::size_t r = 0; r < rows; ++r) {
    const float* yr = y + r * n;
    const float* dyr = dy + r * n;
    float* dxr = dx + r * n;
    const Dot dot = DotProduct(yr, dyr, n);
    // The inputs are left as they are, so the exact routine can redo a row pass 2 has written.
    if (!std::isfinite(dot.hi) || !Gradient(yr, dyr, dxr, n, dot)) ExactRow(yr, dyr, dxr, n);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace softcert::lib
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace softcert::lib {

HWY_EXPORT(SoftmaxBackwardRows);

namespace {
void ExactRow(const float* y, const float* dy, float* dx, std::size_t n) { softmax_backward_row(y, dy, dx, n); }
}  // namespace

int simd_softmax_backward_f32(const float* y, const float* dy, float* dx, std::size_t rows, std::size_t n) {
  if (dy == nullptr) return SOFTCERT_ERR_NULL;  // in accurate's order (kernels.hpp's Batch)
  if (int e = check_rows<float>(y, dx, rows, n)) return e;
  HWY_DYNAMIC_DISPATCH(SoftmaxBackwardRows)(y, dy, dx, rows, n);
  return SOFTCERT_OK;
}

}  // namespace softcert::lib
#endif  // HWY_ONCE

// `simd`'s softmax_backward, dx_i = y_i (dy_i - s), s = Σ_j y_j dy_j, f32 and f64, in f64 lanes
// with Google Highway, dispatched at run time like simd.cc (AVX-512 "AVX3", AVX2, SSE4, scalar
// fallback); within 1 ULP like `accurate`, nearly always correctly rounded. Two passes over a row
// (u = 2^-53):
//   1. s as a double-double H + L. Each product y_j dy_j = p_j + e_j exactly: for floats p_j alone
//      (48 bits, nonzero ones between 2^-298 and 2^256: e_j = 0), for doubles p_j rounded and e_j
//      its exact error (FMA, or Dekker's product without one). They are summed with TwoSum (Ogita,
//      Rump & Oishi's Sum2) in two sets of lanes: hi += p and lo += q + e, q the addition's exact
//      error, and size += |q| + |e|; every kDotBlock vectors the lanes merge into scalars by TwoSum,
//      their lo's into a double-double (TwoSum again), and start afresh. So H + L = s + the
//      rounding error of the lanes' plain sums of at most m values each (m = kDotBlock, 2 kDotBlock
//      for doubles: q and e), of the scalar lo's own low part (a sums of values below u size each,
//      a the scalar additions) and of the last rounding: |H + L - s| <= E = 2u size (m + 2 + a^2 u)
//      (the factor 2 covers size's own rounding). size is itself near m u times the partial sums,
//      so E stays near m^2 u^2 of them for any row length, where one Sum2 over the whole row would
//      grow as n^2 u^2. A product below 2^-969 loses up to 2^-1075 in e_j (or a few such roundings
//      in Dekker's product): n 2^-1070 more.
//   2. f32: b_i = (dy_i - H) - L and y_i b_i, each rounded in f64, then rounded once to f32. With
//      r_i = dy_i - s, |b_i - r_i| <= E + 1.0001 u |L| + 2.0001 u |b_i| (the two subtractions'
//      errors, bounded through |b_i|). Where |b_i| >= T = 2^32 (E + 2u|L|), b_i is within 2^-31.99
//      of r_i, the f64 product within 2^-31.9 of dx_i, and the f32 result within 0.5 + 2^-7.9 ULP.
//      f64: bh + bl = dy_i - H exactly (TwoSum), bl' = bl - L rounded, so |bh + bl' - r_i| <= E +
//      u|L| + u^2|bh|; then y_i (bh + bl') = ph + pe + y_i bl' exactly (pe the product error), and
//      dx_i = ph + (pe + y_i bl') rounded once, the bracket's roundings below 2^-104 |dx_i|. Where
//      |bh| >= T = 2^60 (E + 2u|L|), the sum before the last rounding is within 2^-59.9 of dx_i and
//      the result within 0.5 + 2^-6.9 ULP; outputs are normal there (|ph| in [2^-968, 2^1022): pe
//      exact and no overflow).
//      Both: correctly rounded unless dx_i lies that close to a rounding midpoint (the actual error
//      is near 2^-100 relative, not the bound).
// A row where some |b_i| < T (dy_i ≈ s, or s the remainder of a cancellation below its rounding
// errors), where an output could leave the range the bound covers (f32: some |y_i b_i| >= 2^127,
// where the rounding could reach inf on the wrong side and the portable targets' DemoteTo
// saturates; f64: some nonzero y_i with |ph| outside [2^-968, 2^1022)) or with a non-finite entry
// goes, whole, to `accurate`'s exact routine (softmax_backward.hpp): accurate's result bit for bit.
// A non-finite y_j or dy_j makes its product inf or NaN, and then H: pass 1 finds those rows for
// free (an overflowing product or Dekker split too, through H, L or E).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
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
void ExactRow(const double* y, const double* dy, double* dx, std::size_t n);
}  // namespace
}  // namespace softcert::lib

HWY_BEFORE_NAMESPACE();
namespace softcert::lib {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

constexpr double kU = 0x1p-53;  // the unit roundoff of f64
// T / (E + 2u|L|): b_i within 2^-32 (f32) or 2^-60 (f64) of r_i, relative.
template <typename T>
constexpr double kMargin = std::is_same_v<T, float> ? 0x1p32 : 0x1p60;
constexpr double kHugeF32 = 0x1p127;  // f32: a row with some |y_i b_i| from here on is the exact routine's
constexpr double kHugeF64 = 0x1p1022;  // f64: likewise for |ph|
constexpr double kTinyF64 = 0x1p-968;  // f64: and for a nonzero y_i with |ph| below this (pe inexact)
// Vectors per set of lanes before they merge into the scalars (m values per lane: see the header).
constexpr std::size_t kDotBlock = 256;

// Sum2's lanes: Σ (p + e) = hi + Σ (q + e) exactly, lo = Σ (q + e) rounded, size = Σ (|q| + |e|)
// rounded.
template <class D>
struct DotLanes {
  hn::Vec<D> hi, lo, size;

  explicit DotLanes(D d) : hi(hn::Zero(d)), lo(hn::Zero(d)), size(hn::Zero(d)) {}

  HWY_INLINE void Add(hn::Vec<D> p) {  // an exact product: TwoSum(hi, p), any magnitudes
    hn::Vec<D> s, q;
    TwoSum(hi, p, s, q);
    hi = s;
    lo = hn::Add(lo, q);
    size = hn::Add(size, hn::Abs(q));
  }

  HWY_INLINE void Add(hn::Vec<D> p, hn::Vec<D> e) {  // a rounded product p and its error e
    hn::Vec<D> s, q;
    TwoSum(hi, p, s, q);
    hi = s;
    lo = hn::Add(lo, hn::Add(q, e));
    size = hn::Add(size, hn::Add(hn::Abs(q), hn::Abs(e)));
  }
};

// s = hi + lo, within `error`; hi, lo or error is not finite where the row has a non-finite entry
// or a product (or a step of Dekker's) overflows.
struct Dot {
  double hi, lo, error;
};

// The lanes of the row at i as f64 (floats widened exactly), `count` of them where partial.
template <typename T, class D>
HWY_INLINE hn::Vec<D> LoadRow(D d, const T* p, std::size_t count, bool partial) {
  if constexpr (std::is_same_v<T, double>) {
    return partial ? LoadPartial(d, p, count) : hn::LoadU(d, p);
  } else {
    const hn::Rebind<float, D> df;
    return hn::PromoteTo(d, partial ? LoadPartial(df, p, count) : hn::LoadU(df, p));
  }
}

// Pass 1 over a row of n entries, in two sets of lanes: TwoSum's chain through hi is one addition
// per vector and the rest of it overlaps (four sets were no faster).
template <typename T>
HWY_INLINE Dot DotProduct(const T* y, const T* dy, std::size_t n) {
  const hn::ScalableTag<double> d;
  const std::size_t lanes = hn::Lanes(d);
  using Lanes = DotLanes<decltype(d)>;
  const auto add = [&](Lanes& a, std::size_t i, std::size_t count, bool partial) {
    const auto vy = LoadRow(d, y + i, count, partial), vdy = LoadRow(d, dy + i, count, partial);
    const auto p = hn::Mul(vy, vdy);
    if constexpr (std::is_same_v<T, float>) a.Add(p);  // exact
    else a.Add(p, ProductError(d, vy, vdy, p));
  };
  // The scalars: Σ (p + e) = hi + lo.hi + lo.lo + the lanes' and lo.lo's rounding errors.
  double hi = 0, size = 0;
  dd::DD lo{0, 0};
  double scalar_adds = 0;  // additions into lo.lo
  const auto to_lo = [&](double v) {
    const dd::DD t = dd::two_sum(lo.hi, v);
    lo.hi = t.hi, lo.lo += t.lo, scalar_adds += 1;
  };
  HWY_ALIGN double h[hn::MaxLanes(d)], l[hn::MaxLanes(d)], z[hn::MaxLanes(d)];
  for (std::size_t block = 0; block < n; block += 2 * kDotBlock * lanes) {
    const std::size_t stop = std::min(n, block + 2 * kDotBlock * lanes);
    Lanes a0(d), a1(d);
    std::size_t i = block;
    for (; i + 2 * lanes <= stop; i += 2 * lanes) add(a0, i, lanes, false), add(a1, i + lanes, lanes, false);
    if (i + lanes <= stop) add(a0, i, lanes, false), i += lanes;
    if (i < stop) add(a1, i, stop - i, true);
    // The lanes' hi merge by TwoSum, their errors joining lo and size.
    for (const Lanes* a : {&a0, &a1}) {
      hn::Store(a->hi, d, h), hn::Store(a->lo, d, l), hn::Store(a->size, d, z);
      for (std::size_t k = 0; k < lanes; ++k) {
        const dd::DD t = dd::two_sum(hi, h[k]);
        hi = t.hi;
        to_lo(l[k]), to_lo(t.lo);
        size += z[k] + std::fabs(t.lo);
      }
    }
  }
  // Each lane of a block sums at most m values plainly (f64: q and e per vector); lo.lo sums
  // scalar_adds values each below u size (1.01), and lo.hi + lo.lo rounds once: E = γ_m size +
  // scalar_adds^2 u^2 size + u size, doubled for size's own rounding and the 1.01s.
  const double m = (std::is_same_v<T, float> ? 1.0 : 2.0) * kDotBlock;
  const double underflow = std::is_same_v<T, float> ? 0.0 : static_cast<double>(n) * 0x1p-1070;
  const dd::DD s = dd::two_sum(hi, lo.hi + lo.lo);
  return {s.hi, s.lo, 2 * kU * size * (m + 2 + scalar_adds * scalar_adds * kU) + underflow};
}

// Pass 2 for floats: dx_i = y_i ((dy_i - H) - L) rounded once to f32 (written with kStore). False
// where some output is not within the bound (|b_i| < T) or could overflow: the row is then the
// exact routine's.
template <bool kStore>
HWY_INLINE bool Gradient(const float* y, const float* dy, float* dx, std::size_t n, const Dot& dot) {
  const hn::ScalableTag<double> d;
  const hn::Rebind<float, decltype(d)> df;
  const std::size_t lanes = hn::Lanes(d);
  const auto hi = hn::Set(d, dot.hi), lo = hn::Set(d, dot.lo);
  // The smallest |b_i| and the largest |y_i b_i| of the row decide.
  auto smallest = hn::Set(d, std::numeric_limits<double>::infinity()), largest = hn::Zero(d);
  // One vector at i, of `count` lanes in the row (all of them but in the last vector).
  const auto step = [&](auto partial, std::size_t i, std::size_t count) SOFTCERT_INLINE_LAMBDA {
    constexpr bool kPartial = decltype(partial)::value;
    const auto b = hn::Sub(hn::Sub(LoadRow(d, dy + i, count, kPartial), hi), lo);
    const auto v = hn::Mul(LoadRow(d, y + i, count, kPartial), b);
    auto magnitude = hn::Abs(b);
    if constexpr (kPartial) magnitude = hn::IfThenElse(hn::FirstN(d, count), magnitude, smallest);  // not the padding's
    smallest = hn::Min(smallest, magnitude);
    largest = hn::Max(largest, hn::Abs(v));
    if constexpr (kStore && kPartial) StorePartial(df, hn::DemoteTo(df, v), dx + i, count);
    else if constexpr (kStore) hn::StoreU(hn::DemoteTo(df, v), df, dx + i);
  };
  std::size_t i = 0;
  SOFTCERT_UNROLL2
  for (; i + lanes <= n; i += lanes) step(std::false_type(), i, lanes);
  if (i < n) step(std::true_type(), i, n - i);
  const double threshold = kMargin<float> * (dot.error + 2 * kU * std::fabs(dot.lo));
  return hn::GetLane(hn::MinOfLanes(d, smallest)) >= threshold && hn::GetLane(hn::MaxOfLanes(d, largest)) < kHugeF32;
}

// Pass 2 for doubles: bh + bl = dy_i - H (TwoSum), ph + pe = y_i bh (pe exact), and dx_i = ph +
// (pe + y_i (bl - L)) rounded once (written with kStore). False where some output is not within
// the bound (|bh| < T) or some nonzero y_i has |ph| outside [kTinyF64, kHugeF64): the row is then
// the exact routine's.
template <bool kStore>
HWY_INLINE bool Gradient(const double* y, const double* dy, double* dx, std::size_t n, const Dot& dot) {
  const hn::ScalableTag<double> d;
  const std::size_t lanes = hn::Lanes(d);
  const auto hi = hn::Set(d, -dot.hi), lo = hn::Set(d, dot.lo), zero = hn::Zero(d);
  const auto inf = hn::Set(d, std::numeric_limits<double>::infinity());
  // The smallest |bh|, and the smallest and largest |ph| of the nonzero y_i, decide.
  auto smallest = inf, tiniest = inf, largest = zero;
  const auto step = [&](auto partial, std::size_t i, std::size_t count) SOFTCERT_INLINE_LAMBDA {
    constexpr bool kPartial = decltype(partial)::value;
    const auto yi = LoadRow(d, y + i, count, kPartial);
    hn::Vec<decltype(d)> bh, bl;
    TwoSum(LoadRow(d, dy + i, count, kPartial), hi, bh, bl);
    const auto ph = hn::Mul(yi, bh);
    const auto tail = hn::MulAdd(yi, hn::Sub(bl, lo), ProductError(d, yi, bh, ph));
    // A zero tail keeps ph's own sign of zero (y_i = 0: accurate's y_i · (dy_i - s)).
    const auto out = hn::IfThenElse(hn::Eq(tail, zero), ph, hn::Add(ph, tail));
    auto magnitude = hn::Abs(bh), size = hn::IfThenElse(hn::Eq(yi, zero), inf, hn::Abs(ph));
    if constexpr (kPartial) {  // not the padding's
      const auto in_row = hn::FirstN(d, count);
      magnitude = hn::IfThenElse(in_row, magnitude, inf), size = hn::IfThenElse(in_row, size, inf);
    }
    smallest = hn::Min(smallest, magnitude);
    tiniest = hn::Min(tiniest, size);
    largest = hn::Max(largest, hn::Abs(ph));  // inf where it overflowed; 0 in the padding (y = 0)
    if constexpr (kStore && kPartial) StorePartial(d, out, dx + i, count);
    else if constexpr (kStore) hn::StoreU(out, d, dx + i);
  };
  std::size_t i = 0;
  SOFTCERT_UNROLL2
  for (; i + lanes <= n; i += lanes) step(std::false_type(), i, lanes);
  if (i < n) step(std::true_type(), i, n - i);
  const double threshold = kMargin<double> * (dot.error + 2 * kU * std::fabs(dot.lo));
  return hn::GetLane(hn::MinOfLanes(d, smallest)) >= threshold && hn::GetLane(hn::MinOfLanes(d, tiniest)) >= kTinyF64 &&
         hn::GetLane(hn::MaxOfLanes(d, largest)) < kHugeF64;
}

// `in_place`: dx overlaps y or dy (dx may be either, row for row). Pass 2 then runs once without
// writing, to decide, and again to write: the exact routine must find a row it redoes as given.
template <typename T>
void SoftmaxBackwardRows(const T* y, const T* dy, T* dx, std::size_t rows, std::size_t n, bool in_place) {
  for (std::size_t r = 0; r < rows; ++r) {
    const T* yr = y + r * n;
    const T* dyr = dy + r * n;
    T* dxr = dx + r * n;
    const Dot dot = DotProduct(yr, dyr, n);
    const bool finite = std::isfinite(dot.hi) && std::isfinite(dot.lo) && std::isfinite(dot.error);
    if (!finite || (in_place && !Gradient<false>(yr, dyr, dxr, n, dot))) {
      ExactRow(yr, dyr, dxr, n);
    } else if (in_place) {
      Gradient<true>(yr, dyr, dxr, n, dot);  // decided above, from the inputs as given
    } else if (!Gradient<true>(yr, dyr, dxr, n, dot)) {
      ExactRow(yr, dyr, dxr, n);  // the inputs are untouched
    }
  }
}

void SoftmaxBackwardRowsF32(const float* y, const float* dy, float* dx, std::size_t rows, std::size_t n,
                            bool in_place) {
  SoftmaxBackwardRows(y, dy, dx, rows, n, in_place);
}
void SoftmaxBackwardRowsF64(const double* y, const double* dy, double* dx, std::size_t rows, std::size_t n,
                            bool in_place) {
  SoftmaxBackwardRows(y, dy, dx, rows, n, in_place);
}

}  // namespace HWY_NAMESPACE
}  // namespace softcert::lib
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace softcert::lib {

HWY_EXPORT(SoftmaxBackwardRowsF32);
HWY_EXPORT(SoftmaxBackwardRowsF64);

namespace {
void ExactRow(const float* y, const float* dy, float* dx, std::size_t n) { softmax_backward_row(y, dy, dx, n); }
void ExactRow(const double* y, const double* dy, double* dx, std::size_t n) { softmax_backward_row(y, dy, dx, n); }

// Whether dx's rows · n entries share memory with y's or dy's.
template <typename T>
bool in_place(const T* y, const T* dy, const T* dx, std::size_t count) {
  const auto overlaps = [&](const T* a) {
    const std::less<const T*> before;
    return before(a, dx + count) && before(dx, a + count);
  };
  return overlaps(y) || overlaps(dy);
}
}  // namespace

int simd_softmax_backward_f32(const float* y, const float* dy, float* dx, std::size_t rows, std::size_t n) {
  if (dy == nullptr) return SOFTCERT_ERR_NULL;  // in accurate's order (kernels.hpp's Batch)
  if (int e = check_rows<float>(y, dx, rows, n)) return e;
  HWY_DYNAMIC_DISPATCH(SoftmaxBackwardRowsF32)(y, dy, dx, rows, n, in_place(y, dy, dx, rows * n));
  return SOFTCERT_OK;
}

int simd_softmax_backward_f64(const double* y, const double* dy, double* dx, std::size_t rows, std::size_t n) {
  if (dy == nullptr) return SOFTCERT_ERR_NULL;
  if (int e = check_rows<double>(y, dx, rows, n)) return e;
  HWY_DYNAMIC_DISPATCH(SoftmaxBackwardRowsF64)(y, dy, dx, rows, n, in_place(y, dy, dx, rows * n));
  return SOFTCERT_OK;
}

}  // namespace softcert::lib
#endif  // HWY_ONCE

// `simd`: the f32 softmax, log_softmax, logsumexp, cross_entropy, cross_entropy_grad, sigmoid,
// masked_softmax and softmax_temperature kernels vectorised with Google Highway, dispatched at run time to the best target compiled here
// (AVX-512 "AVX3", AVX2, SSE4, scalar fallback), within 1 ULP like `accurate` and about ten times
// faster; f16/bf16 softmax and log_softmax go through them. Every other kernel (f64,
// softmax_backward, attention) is `accurate`'s (make_simd).
//
// A row takes three passes at most:
//   1. max, min and a NaN check in f32 lanes; a row with NaN, +inf or only -inf goes to
//      special.hpp, exactly as in every other algorithm (its scalar scan_row runs only there);
//   2. e_i = exp(z_i - max) and their sum in f64 lanes: z_i - max is exact in double, and Exp below
//      is good to 2^-32.9 relative, so each term carries 9 bits beyond f32's;
//   3. softmax: e_i · (1/S) rounded once to f32 (e_i kept from pass 2 in a per-thread scratch row
//      while it fits in cache, recomputed otherwise); log_softmax: (z_i - max) - log1p(rest), two
//      non-positive numbers, so no cancellation on the dominant entry (rest = the sum without one
//      max's own term 1: pass 2 sums the terms below the max and counts the ties apart);
//      logsumexp and cross_entropy have no pass 3; the gradient is softmax's passes with the
//      label's term summed apart.
// Error bound: each e_i and the sum S (blocked: <= (4096 + n/(4096·lanes))·2^-53 more) are within
// ε ≈ 2^-32.9 relative, the quotient adds 2^-52, so the f64 result is within 2^-31.9 of the exact
// one and its rounding to f32 within 0.5 + 2^24·2^-31.9 < 0.505 ULP, subnormal results included
// (they are rounded once from a normal double, never flushed). log_softmax: (z_i - max) exact,
// L = log1p(rest) within ε·L, no cancellation, so the same.
// logsumexp = max + L cancels where max < 0 and lse ≈ 0: there L is recomputed with glibc's exp
// and a compensated sum (accurate's precision) whenever pass 2's bound cannot promise 1/16 ULP.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <new>
#include <type_traits>
#include <vector>

// SSSE3 would only add compile time: every x86 CPU with SSSE3 but not SSE4 is long retired.
#ifndef HWY_DISABLED_TARGETS
#define HWY_DISABLED_TARGETS HWY_SSSE3
#endif

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "simd.cc"
#include <hwy/foreach_target.h>  // re-includes this file once per target
#include <hwy/highway.h>

#include "algorithms.hpp"
#include "double_double.hpp"
#include "kernels.hpp"
#include "simd.hpp"
#include "special.hpp"

HWY_BEFORE_NAMESPACE();
namespace softcert::lib {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Shifts below this are treated as -inf (their term as 0): e^-708 is still a normal double, and
// n of them are below 2^-149 relative to the max's own term 1 for any n < 2^870, so no f32
// result can see them.
constexpr double kFloor = -708;
constexpr double kLog2e = 0x1.71547652b82fep+0;
constexpr double kLn2 = 0x1.62e42fefa39efp-1;
// Adding 1.5 · 2^52 rounds to an integer and leaves it in the low mantissa bits.
constexpr double kShifter = 0x1.8p52;
// Vectors summed into one block accumulator before it joins the total: keeps the sum's rounding
// error at (kBlock + n / (kBlock · lanes)) · 2^-53 instead of n / lanes · 2^-53.
constexpr std::size_t kBlock = 4096;

// exp(x) for x in [kFloor, 0] to a relative error below 2^-32.9 (9 bits beyond f32; more would
// only cost time): x = k ln 2 + r, |r| <= ln2/2, and exp(r) = 1 + r q(r), q the degree-6
// Chebyshev fit of (e^r - 1)/r on [-0.3466, 0.3466] (relative error 2^-33.08 over the interval,
// checked with mpmath at 2001 points; coefficients rounded to double), times 2^k built in the
// exponent bits. The reduction uses ln 2 rounded to double: k (ln 2 - kLn2) and the rounding of
// k · kLn2 where MulAdd is not fused (SSE4, scalar) are below 2^-43, |k| <= 1022.
// For x below kFloor (-inf included) the result is garbage or NaN: callers mask it to 0.
template <class D>
HWY_INLINE hn::Vec<D> Exp(D d, hn::Vec<D> x) {
  const hn::RebindToUnsigned<D> du;
  const auto shifter = hn::Set(d, kShifter);
  const auto t = hn::MulAdd(x, hn::Set(d, kLog2e), shifter);
  const auto k = hn::Sub(t, shifter);
  const auto r = hn::NegMulAdd(k, hn::Set(d, kLn2), x);
  auto q = hn::Set(d, 0x1.a151760b496bbp-13);
  q = hn::MulAdd(q, r, hn::Set(d, 0x1.6d753f9d0edb6p-10));
  q = hn::MulAdd(q, r, hn::Set(d, 0x1.1110c63476727p-7));
  q = hn::MulAdd(q, r, hn::Set(d, 0x1.5554acd3f7a6dp-5));
  q = hn::MulAdd(q, r, hn::Set(d, 0x1.5555556752826p-3));
  q = hn::MulAdd(q, r, hn::Set(d, 0x1.000000287e0bep-1));
  q = hn::MulAdd(q, r, hn::Set(d, 1.0));
  const auto p = hn::MulAdd(q, r, hn::Set(d, 1.0));  // exactly 1 at x = 0
  // t's low mantissa bits hold k (two's complement); shifted into the exponent field with the
  // bias they are 2^k, k in [-1022, 0].
  const auto two_k = hn::BitCast(d, hn::ShiftLeft<52>(hn::Add(hn::BitCast(du, t), hn::Set(du, 1023))));
  return hn::Mul(p, two_k);
}

// exp(z_i - m) for the lanes of d at z. With kMask, 0 where the shift is below kFloor (-inf
// entries); without, the row has no such entry (RowMax's min says so) and the mask is skipped.
// With kScaled, the shift is (z_i - m) · scale (softmax_temperature: scale = 1/t, within 2^-52
// relative, so exp within 708 · 2^-52 < 2^-42 more).
template <bool kMask, bool kScaled = false, class D>
HWY_INLINE hn::Vec<D> Term(D d, const float* z, hn::Vec<D> m, hn::Vec<D>& shift, hn::Vec<D> scale = hn::Vec<D>()) {
  const hn::Rebind<float, D> df;
  shift = hn::Sub(hn::PromoteTo(d, hn::LoadU(df, z)), m);  // exact
  if constexpr (kScaled) shift = hn::Mul(shift, scale);
  if constexpr (!kMask) return Exp(d, shift);
  return hn::IfThenZeroElse(hn::Lt(shift, hn::Set(d, kFloor)), Exp(d, shift));
}

// Adds Σ exp(z_i - m) over z[begin, end) ((end - begin) a multiple of Lanes(d)) to sum; with
// kSplit, only the terms with z_i < m, and the number of z_i = m (terms exactly 1) to ties. With
// kStore, each term also goes to store[i]. Two vectors per step, two accumulators.
template <bool kSplit, bool kStore, bool kMask, bool kScaled, class D>
HWY_INLINE void ExpSum(D d, const float* z, std::size_t begin, std::size_t end, double m, double* store,
                       double& sum, double& ties, double scale) {
  const std::size_t lanes = hn::Lanes(d);
  const auto vm = hn::Set(d, m), zero = hn::Zero(d), one = hn::Set(d, 1.0), vscale = hn::Set(d, scale);
  auto total = zero, top = zero;
  const auto step = [&](std::size_t i, hn::Vec<D>& acc) {
    hn::Vec<D> shift;
    const auto e = Term<kMask, kScaled>(d, z + i, vm, shift, vscale);
    if constexpr (kStore) hn::StoreU(e, d, store + i);
    if constexpr (kSplit) {
      const auto at_max = hn::Eq(shift, zero);
      acc = hn::Add(acc, hn::IfThenZeroElse(at_max, e));
      top = hn::Add(top, hn::IfThenElseZero(at_max, one));
    } else {
      acc = hn::Add(acc, e);
    }
  };
  for (std::size_t block = begin; block < end; block += kBlock * lanes) {
    const std::size_t stop = std::min(end, block + kBlock * lanes);
    auto acc0 = zero, acc1 = zero;
    std::size_t i = block;
    for (; i + 2 * lanes <= stop; i += 2 * lanes) {
      step(i, acc0);
      step(i + lanes, acc1);
    }
    if (i < stop) step(i, acc0);
    total = hn::Add(total, hn::Add(acc0, acc1));
  }
  sum += hn::GetLane(hn::SumOfLanes(d, total));
  if constexpr (kSplit) ties += hn::GetLane(hn::SumOfLanes(d, top));
}

// Stores the f64 lanes of v rounded to f32 at out, as IEEE rounds them (overflow to ±inf). The
// portable targets' DemoteTo saturates to ±FLT_MAX instead, so there each lane is cast alone.
template <class D>
HWY_INLINE void StoreRounded(D d, hn::Vec<D> v, float* out) {
#if HWY_TARGET == HWY_SCALAR || HWY_TARGET == HWY_EMU128
  HWY_ALIGN double lanes[16 / sizeof(double)];  // one 128-bit vector at most on these targets
  hn::Store(v, d, lanes);
  for (std::size_t i = 0; i < hn::Lanes(d); ++i) out[i] = static_cast<float>(lanes[i]);
#else
  const hn::Rebind<float, D> df;
  hn::StoreU(hn::DemoteTo(df, v), df, out);
#endif
}

// y_i = e_i · inv rounded once to f32, e_i from store (kStored) or recomputed from z.
template <bool kStored, bool kMask, bool kScaled, class D>
HWY_INLINE void Normalise(D d, const float* z, const double* store, float* y, std::size_t begin,
                          std::size_t end, double m, double inv, double scale) {
  const std::size_t lanes = hn::Lanes(d);
  const auto vm = hn::Set(d, m), vinv = hn::Set(d, inv), vscale = hn::Set(d, scale);
  for (std::size_t i = begin; i < end; i += lanes) {
    hn::Vec<D> e;
    if constexpr (kStored) {
      e = hn::LoadU(d, store + i);
    } else {
      hn::Vec<D> shift;
      e = Term<kMask, kScaled>(d, z + i, vm, shift, vscale);
    }
    StoreRounded(d, hn::Mul(e, vinv), y + i);
  }
}

// y_i = (z_i - m) - l rounded once to f32: z_i - m is exact and <= 0, l >= 0.
template <class D>
HWY_INLINE void Shifted(D d, const float* z, float* y, std::size_t begin, std::size_t end, double m, double l) {
  const hn::Rebind<float, D> df;
  const std::size_t lanes = hn::Lanes(d);
  const auto vm = hn::Set(d, m), vl = hn::Set(d, l);
  for (std::size_t i = begin; i < end; i += lanes) {
    const auto shift = hn::Sub(hn::PromoteTo(d, hn::LoadU(df, z + i)), vm);
    StoreRounded(d, hn::Sub(shift, vl), y + i);
  }
}

// What pass 1 learns about a row.
struct RowInfo {
  bool regular;  // no NaN, no +inf, some finite entry (then max is finite)
  float max;
  bool deep;     // some entry lies below max + kFloor (-inf ones included): pass 2 must mask
  double low_shift;  // min - max (-inf with a -inf entry)
};

// Pass 1: max, min and NaN check in f32 lanes.
HWY_INLINE RowInfo ScanRow(const float* z, std::size_t n) {
  const hn::ScalableTag<float> df;
  const std::size_t lanes = hn::Lanes(df);
  auto hi0 = hn::Set(df, -std::numeric_limits<float>::infinity()), hi1 = hi0;
  auto lo0 = hn::Set(df, std::numeric_limits<float>::infinity()), lo1 = lo0;
  auto nan = hn::IsNaN(hi0);  // all false
  std::size_t i = 0;
  for (; i + 2 * lanes <= n; i += 2 * lanes) {
    const auto a = hn::LoadU(df, z + i), b = hn::LoadU(df, z + i + lanes);
    hi0 = hn::Max(hi0, a), hi1 = hn::Max(hi1, b);
    lo0 = hn::Min(lo0, a), lo1 = hn::Min(lo1, b);
    nan = hn::Or(nan, hn::Or(hn::IsNaN(a), hn::IsNaN(b)));  // Max drops NaN on some targets
  }
  for (; i + lanes <= n; i += lanes) {
    const auto a = hn::LoadU(df, z + i);
    hi0 = hn::Max(hi0, a), lo0 = hn::Min(lo0, a);
    nan = hn::Or(nan, hn::IsNaN(a));
  }
  bool has_nan = !hn::AllFalse(df, nan);
  float top = hn::GetLane(hn::MaxOfLanes(df, hn::Max(hi0, hi1)));
  float low = hn::GetLane(hn::MinOfLanes(df, hn::Min(lo0, lo1)));
  for (; i < n; ++i) {
    has_nan = has_nan || std::isnan(z[i]);
    top = std::max(top, z[i]), low = std::min(low, z[i]);
  }
  const bool regular = !has_nan && std::isfinite(top);
  const double low_shift = double(low) - double(top);
  return {regular, top, !(low_shift >= kFloor), low_shift};
}

// Calls f with std::true_type when the row needs pass 2's mask, std::false_type otherwise, so
// that each loop is compiled both ways.
template <class F>
HWY_INLINE void WithMask(const RowInfo& row, F&& f) {
  if (row.deep) f(std::true_type());
  else f(std::false_type());
}

// Pass 2 over z[begin, end): full vectors, then the tail one lane at a time with the same arithmetic.
template <bool kSplit, bool kStore, bool kMask, bool kScaled = false>
HWY_INLINE void RowSum(const float* z, std::size_t begin, std::size_t end, double m, double* store, double& sum,
                       double& ties, double scale = 1) {
  const hn::ScalableTag<double> d;
  const hn::CappedTag<double, 1> d1;
  const std::size_t body = end - (end - begin) % hn::Lanes(d);
  ExpSum<kSplit, kStore, kMask, kScaled>(d, z, begin, body, m, store, sum, ties, scale);
  ExpSum<kSplit, kStore, kMask, kScaled>(d1, z, body, end, m, store, sum, ties, scale);
}

// Pass 3 of softmax over the row: y_i = e_i / S, e_i from the scratch row or recomputed.
template <bool kMask, bool kScaled = false>
HWY_INLINE void RowNormalise(const float* z, const double* store, float* y, std::size_t n, double m, double inv,
                             double scale = 1) {
  const hn::ScalableTag<double> d;
  const hn::CappedTag<double, 1> d1;
  const std::size_t body = n - n % hn::Lanes(d);
  if (store) {
    Normalise<true, kMask, kScaled>(d, z, store, y, 0, body, m, inv, scale);
    Normalise<true, kMask, kScaled>(d1, z, store, y, body, n, m, inv, scale);
  } else {
    Normalise<false, kMask, kScaled>(d, z, nullptr, y, 0, body, m, inv, scale);
    Normalise<false, kMask, kScaled>(d1, z, nullptr, y, body, n, m, inv, scale);
  }
}

// log Σ_j exp(z_j - m) as log1p of the sum without one max's own term 1.
HWY_INLINE double LogSum(const float* z, std::size_t n, const RowInfo& row) {
  double rest = 0, ties = 0;
  WithMask(row, [&](auto mask) { RowSum<true, false, decltype(mask)::value>(z, 0, n, row.max, nullptr, rest, ties); });
  return std::log1p((ties - 1) + rest);
}

// softmax of a regular row (row = ScanRow(z, n)): exp and sum (terms kept in `scratch` when
// given), then one rounding per output.
void SoftmaxRegularRow(const float* z, float* out, std::size_t n, const RowInfo& row, double* scratch) {
  WithMask(row, [&](auto mask) {
    constexpr bool kMask = decltype(mask)::value;
    double sum = 0, unused = 0;
    if (scratch) RowSum<false, true, kMask>(z, 0, n, row.max, scratch, sum, unused);
    else RowSum<false, false, kMask>(z, 0, n, row.max, nullptr, sum, unused);
    RowNormalise<kMask>(z, scratch, out, n, row.max, 1 / sum);
  });
}

void SoftmaxRows(const float* x, float* y, std::size_t rows, std::size_t n, double* scratch) {
  for (std::size_t r = 0; r < rows; ++r) {
    const float* z = x + r * n;
    float* out = y + r * n;
    const RowInfo row = ScanRow(z, n);
    if (!row.regular) {
      softmax_special(scan_row(z, n), z, out, n);
      continue;
    }
    SoftmaxRegularRow(z, out, n, row, scratch);
  }
}

void LogSoftmaxRows(const float* x, float* y, std::size_t rows, std::size_t n) {
  const hn::ScalableTag<double> d;
  const hn::CappedTag<double, 1> d1;
  const std::size_t body = n - n % hn::Lanes(d);
  for (std::size_t r = 0; r < rows; ++r) {
    const float* z = x + r * n;
    float* out = y + r * n;
    const RowInfo row = ScanRow(z, n);
    if (!row.regular) {
      log_softmax_special(scan_row(z, n), z, out, n);
      continue;
    }
    const double l = LogSum(z, n, row);
    Shifted(d, z, out, 0, body, row.max, l);
    Shifted(d1, z, out, body, n, row.max, l);
  }
}

// softmax((z - max) / t): softmax's passes with the shift scaled by 1/t; the mask is needed where
// (min - max) / t falls below kFloor.
void SoftmaxTemperatureRows(const float* x, float* y, std::size_t rows, std::size_t n, double t, double* scratch) {
  const double scale = 1 / t;
  for (std::size_t r = 0; r < rows; ++r) {
    const float* z = x + r * n;
    float* out = y + r * n;
    RowInfo row = ScanRow(z, n);
    if (!row.regular) {
      softmax_special(scan_row(z, n), z, out, n);
      continue;
    }
    row.deep = row.deep || !(row.low_shift * scale >= kFloor);
    WithMask(row, [&](auto mask) {
      constexpr bool kMask = decltype(mask)::value;
      double sum = 0, unused = 0;
      if (scratch) RowSum<false, true, kMask, true>(z, 0, n, row.max, scratch, sum, unused, scale);
      else RowSum<false, false, kMask, true>(z, 0, n, row.max, nullptr, sum, unused, scale);
      RowNormalise<kMask, true>(z, scratch, out, n, row.max, 1 / sum, scale);
    });
  }
}

// Masked softmax: the row with its masked-out entries replaced by -inf (in `masked`, n floats) is an
// ordinary softmax row, whose -inf entries come out exactly +0. A row that is special after the
// masking (a kept NaN or +inf, or nothing kept) goes to special.hpp with the keep mask itself, so
// that masked positions are +0 there too.
void MaskedSoftmaxRows(const float* x, const std::uint8_t* keep, float* y, std::size_t rows, std::size_t n,
                       double* scratch, float* masked) {
  for (std::size_t r = 0; r < rows; ++r) {
    const float* z = x + r * n;
    const std::uint8_t* k = keep + r * n;
    float* out = y + r * n;
    for (std::size_t i = 0; i < n; ++i) masked[i] = k[i] ? z[i] : -std::numeric_limits<float>::infinity();
    const RowInfo row = ScanRow(masked, n);
    if (!row.regular) {
      softmax_special(scan_row(z, n, k), z, out, n, k);
      continue;
    }
    SoftmaxRegularRow(masked, out, n, row, scratch);
  }
}

// L = log Σ_j exp(z_j - m) with glibc's exp (< 1 ulp of double) and Neumaier's sum: what
// `accurate` computes, for the rows where max + L cancels.
inline double LogSumAccurate(const float* z, std::size_t n, double m) {
  double s = -1, c = 0;  // the sum without one max's own term 1
  for (std::size_t i = 0; i < n; ++i) {
    const double a = double(z[i]) - m;
    const double x = a == 0 ? 1.0 : a < kFloor ? 0.0 : std::exp(a);
    const double t = s + x;
    c += std::fabs(s) >= std::fabs(x) ? (s - t) + x : (x - t) + s;
    s = t;
  }
  return std::log1p(s + c);
}

void LogsumexpRows(const float* x, float* out, std::size_t rows, std::size_t n) {
  const double lanes = static_cast<double>(hn::Lanes(hn::ScalableTag<double>()));
  // Pass 2's relative error bound on the sum (see the top of the file).
  const double eps = 0x1p-32 + (static_cast<double>(kBlock) + static_cast<double>(n) / (kBlock * lanes)) * 0x1p-53;
  for (std::size_t r = 0; r < rows; ++r) {
    const float* z = x + r * n;
    const RowInfo row = ScanRow(z, n);
    if (!row.regular) {
      out[r] = logsumexp_special(scan_row(z, n));
      continue;
    }
    const double m = row.max;
    double l = LogSum(z, n, row);
    // L's error eps · L is below 1/16 ULP of max + L unless they cancel (max < 0).
    if (m < 0 && eps * l > 0x1p-28 * std::fabs(m + l)) l = LogSumAccurate(z, n, m);
    out[r] = dd::round_to_float(dd::two_sum(m, l));  // one rounding of max + L
  }
}

// Cross-entropy (max - z_y) + L: two non-negative numbers (max - z_y exact), rounded once.
void CrossEntropyRows(const float* x, const std::int64_t* labels, float* loss, std::size_t rows, std::size_t n) {
  for (std::size_t r = 0; r < rows; ++r) {
    const float* z = x + r * n;
    const auto label = static_cast<std::size_t>(labels[r]);
    const RowInfo row = ScanRow(z, n);
    if (!row.regular) {
      loss[r] = cross_entropy_special(scan_row(z, n), z, label);
      continue;
    }
    loss[r] = dd::round_to_float(dd::two_sum(double(row.max) - double(z[label]), LogSum(z, n, row)));
  }
}

// The gradient softmax(z) - onehot(y), from the same pass 2 as softmax but with the label's term
// summed apart: g_y = -(Σ_{j != y} e_j) / S keeps its bits where p_y ≈ 1 (p_y - 1 would cancel).
void CrossEntropyGradRows(const float* x, const std::int64_t* labels, float* g, std::size_t rows, std::size_t n,
                          double* scratch) {
  for (std::size_t r = 0; r < rows; ++r) {
    const float* z = x + r * n;
    float* out = g + r * n;
    const auto label = static_cast<std::size_t>(labels[r]);
    const RowInfo row = ScanRow(z, n);
    if (!row.regular) {
      cross_entropy_grad_special(scan_row(z, n), z, label, out, n);
      continue;
    }
    WithMask(row, [&](auto mask) {
      constexpr bool kMask = decltype(mask)::value;
      const double m = row.max;
      double rest = 0, own = 0, unused = 0;
      if (scratch) {
        RowSum<false, true, kMask>(z, 0, label, m, scratch, rest, unused);
        RowSum<false, true, kMask>(z, label, label + 1, m, scratch, own, unused);
        RowSum<false, true, kMask>(z, label + 1, n, m, scratch, rest, unused);
      } else {
        RowSum<false, false, kMask>(z, 0, label, m, nullptr, rest, unused);
        RowSum<false, false, kMask>(z, label, label + 1, m, nullptr, own, unused);
        RowSum<false, false, kMask>(z, label + 1, n, m, nullptr, rest, unused);
      }
      const double inv = 1 / (rest + own);
      RowNormalise<kMask>(z, scratch, out, n, m, inv);
      out[label] = rest == 0 ? 0.0f : static_cast<float>(-(rest * inv));  // p - 1 = 1 - 1 = +0
    });
  }
}

// σ(x) = 1 / (1 + e) for x >= 0 and e / (1 + e) below, e = exp(-|x|) in f64: no cancellation, so
// within 2ε + 2^-52 relative before the one rounding. σ(+inf) = 1 and σ(-inf) = +0 (e masked to
// 0), σ(±0) = 1/2.
template <class D>
HWY_INLINE void SigmoidLanes(D d, const float* x, float* y) {
  const hn::Rebind<float, D> df;
  const auto v = hn::PromoteTo(d, hn::LoadU(df, x));
  const auto a = hn::Neg(hn::Abs(v));
  const auto e = hn::IfThenZeroElse(hn::Lt(a, hn::Set(d, kFloor)), Exp(d, a));
  const auto one = hn::Set(d, 1.0);
  const auto num = hn::IfThenElse(hn::Lt(v, hn::Zero(d)), e, one);
  // A NaN comes back as it came (-|x| would flip its sign).
  StoreRounded(d, hn::IfThenElse(hn::IsNaN(v), v, hn::Div(num, hn::Add(one, e))), y);
}

void SigmoidN(const float* x, float* y, std::size_t count) {
  const hn::ScalableTag<double> d;
  const hn::CappedTag<double, 1> d1;
  const std::size_t body = count - count % hn::Lanes(d);
  for (std::size_t i = 0; i < body; i += hn::Lanes(d)) SigmoidLanes(d, x + i, y + i);
  for (std::size_t i = body; i < count; ++i) SigmoidLanes(d1, x + i, y + i);
}

std::int64_t DispatchedTarget() { return HWY_TARGET; }

}  // namespace HWY_NAMESPACE
}  // namespace softcert::lib
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace softcert::lib {

HWY_EXPORT(SoftmaxRows);
HWY_EXPORT(LogSoftmaxRows);
HWY_EXPORT(LogsumexpRows);
HWY_EXPORT(CrossEntropyRows);
HWY_EXPORT(CrossEntropyGradRows);
HWY_EXPORT(SigmoidN);
HWY_EXPORT(MaskedSoftmaxRows);
HWY_EXPORT(SoftmaxTemperatureRows);
HWY_EXPORT(DispatchedTarget);

namespace {

// Pass 2 keeps the terms for pass 3 while the row's doubles (16 MiB here) fit in the last-level
// cache: reading them back is cheaper than recomputing them (measured: 1.4 against 2.3 ns per
// element at n = 2^20 on AVX2); beyond, reading them from memory costs about what exp does.
constexpr std::size_t kScratchMax = std::size_t(1) << 21;

// This thread's scratch row of n doubles, or null (recompute) when the row is large or memory short.
double* scratch(std::size_t n) {
  thread_local std::vector<double> row;
  if (n > kScratchMax) return nullptr;
  try {
    if (row.size() < n) row.resize(n);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
  return row.data();
}

int softmax_f32(const float* x, float* y, size_t rows, size_t n) {
  if (int e = check_rows<float>(x, y, rows, n)) return e;
  HWY_DYNAMIC_DISPATCH(SoftmaxRows)(x, y, rows, n, scratch(n));
  return SOFTCERT_OK;
}

int log_softmax_f32(const float* x, float* y, size_t rows, size_t n) {
  if (int e = check_rows<float>(x, y, rows, n)) return e;
  HWY_DYNAMIC_DISPATCH(LogSoftmaxRows)(x, y, rows, n);
  return SOFTCERT_OK;
}

int logsumexp_f32(const float* x, float* out, size_t rows, size_t n) {
  if (int e = check_rows<float>(x, out, rows, n)) return e;
  HWY_DYNAMIC_DISPATCH(LogsumexpRows)(x, out, rows, n);
  return SOFTCERT_OK;
}

int softmax_temperature_f32(const float* x, float* y, size_t rows, size_t n, float t) {
  if (int e = check_rows<float>(x, y, rows, n)) return e;
  if (!(t > 0) || !std::isfinite(t)) return SOFTCERT_ERR_TEMPERATURE;
  HWY_DYNAMIC_DISPATCH(SoftmaxTemperatureRows)(x, y, rows, n, t, scratch(n));
  return SOFTCERT_OK;
}

int masked_softmax_f32(const float* x, const uint8_t* keep, float* y, size_t rows, size_t n) {
  if (keep == nullptr) return SOFTCERT_ERR_NULL;
  if (int e = check_rows<float>(x, y, rows, n)) return e;
  thread_local std::vector<float> masked;
  try {
    if (masked.size() < n) masked.resize(n);
  } catch (const std::bad_alloc&) {
    return SOFTCERT_ERR_SIZE;  // as kernels.hpp's ReducedBatch: nothing crosses the C ABI
  }
  HWY_DYNAMIC_DISPATCH(MaskedSoftmaxRows)(x, keep, y, rows, n, scratch(n), masked.data());
  return SOFTCERT_OK;
}

int sigmoid_f32(const float* x, float* y, size_t count) {
  if (int e = check_rows<float>(x, y, 1, count)) return e;
  HWY_DYNAMIC_DISPATCH(SigmoidN)(x, y, count);
  return SOFTCERT_OK;
}

int cross_entropy_f32(const float* z, const int64_t* labels, float* loss, size_t rows, size_t n) {
  if (int e = check_labelled_rows<float>(z, labels, loss, rows, n)) return e;
  HWY_DYNAMIC_DISPATCH(CrossEntropyRows)(z, labels, loss, rows, n);
  return SOFTCERT_OK;
}

int cross_entropy_grad_f32(const float* z, const int64_t* labels, float* grad, size_t rows, size_t n) {
  if (int e = check_labelled_rows<float>(z, labels, grad, rows, n)) return e;
  HWY_DYNAMIC_DISPATCH(CrossEntropyGradRows)(z, labels, grad, rows, n, scratch(n));
  return SOFTCERT_OK;
}

// f16/bf16 (bit patterns): the row widened to f32 (exactly: every value of the format is a float),
// the f32 kernel above, and one more rounding to the format. The f32 result is within 0.505 ULP of
// f32, so the format's result is within 0.5 + 0.505 · 2^-13 of its ULP (binary16; 2^-16 for
// bfloat16): correctly rounded but where the exact value lies that close to a rounding midpoint.
template <const FloatFormat& F, int (*Kernel)(const float*, float*, size_t, size_t)>
int reduced(const uint16_t* x, uint16_t* y, size_t rows, size_t n) {
  if (int e = check_rows<float>(x, y, rows, n)) return e;
  std::vector<float> in, out;
  try {
    in.resize(rows * n);
    out.resize(rows * n);
  } catch (const std::bad_alloc&) {
    return SOFTCERT_ERR_SIZE;  // as kernels.hpp's ReducedBatch: nothing crosses the C ABI
  }
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = decode(x[i], F);
  if (int e = Kernel(in.data(), out.data(), rows, n)) return e;
  for (std::size_t i = 0; i < out.size(); ++i) y[i] = encode(static_cast<double>(out[i]), F);
  return SOFTCERT_OK;
}

}  // namespace

std::vector<std::int64_t> simd_targets() {
  std::vector<std::int64_t> targets;
  const std::int64_t both = HWY_TARGETS & hwy::SupportedTargets();
  for (int bit = 0; bit < 63; ++bit) {  // lower bits are the better targets
    if (both & (std::int64_t(1) << bit)) targets.push_back(std::int64_t(1) << bit);
  }
  return targets;
}

std::int64_t simd_dispatched_target() { return HWY_DYNAMIC_DISPATCH(DispatchedTarget)(); }

// accurate's kernels, with the f32 ones above in place of accurate's.
Implementation make_simd() {
  Implementation impl = make_accurate();
  impl.name = "simd";
  impl.f32.softmax = &softmax_f32;
  impl.f32.log_softmax = &log_softmax_f32;
  impl.f32.logsumexp = &logsumexp_f32;
  impl.f32.sigmoid = &sigmoid_f32;
  impl.f32.masked_softmax = &masked_softmax_f32;
  impl.f32.softmax_temperature = &softmax_temperature_f32;
  impl.f16 = {&reduced<kBinary16, &softmax_f32>, &reduced<kBinary16, &log_softmax_f32>};
  impl.bf16 = {&reduced<kBFloat16, &softmax_f32>, &reduced<kBFloat16, &log_softmax_f32>};
  impl.f32.cross_entropy = &cross_entropy_f32;
  impl.f32.cross_entropy_grad = &cross_entropy_grad_f32;
  return impl;
}

}  // namespace softcert::lib
#endif  // HWY_ONCE

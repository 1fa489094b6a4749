// `simd`: the f32 softmax, log_softmax, logsumexp, cross_entropy, cross_entropy_grad, sigmoid,
// masked_softmax and softmax_temperature kernels vectorised with Google Highway, dispatched at run
// time to the best target compiled here (AVX-512 "AVX3", AVX2, SSE4, scalar fallback), within 1 ULP
// like `accurate` and many times faster; f16/bf16 softmax and log_softmax go through them.
// softmax_backward (f32 and f64) is simd_backward.cc's, the other f64 kernels are simd_f64.cc's;
// attention is `accurate`'s (make_simd).
//
// A row takes three passes at most:
//   1. max, min and a NaN check in f32 lanes; a row with NaN, +inf or only -inf goes to
//      special.hpp, exactly as in every other algorithm (its scalar scan_row runs only there);
//   2. the terms exp(z_i - max) and their sum, in f32 lanes with a table-driven exp that never
//      rounds z_i - max, each term kept as a float pair hi + lo (see "Pass 2 in f32 lanes" below
//      for the error bound: each term within 2^-26.6, the sum too);
//   3. softmax: (hi_i + lo_i) · (1/S) rounded once (the pair kept from pass 2, hi in the output
//      row itself and lo in a per-thread scratch row, while it fits in cache; recomputed beyond):
//      within 0.70 ULP, subnormal results rounded once, never flushed; log_softmax: (z_i - max) -
//      log1p(rest), two non-positive numbers, so no cancellation on the dominant entry (rest = the
//      sum without one max's own term 1: pass 2 sums the terms below the max and counts the ties
//      apart); logsumexp and cross_entropy have no pass 3; the gradient is softmax's passes with
//      the label's term summed apart.
// Short rows (n <= 64 for softmax and the gradient, n <= 128 for log_softmax, logsumexp and
// cross_entropy) do the same arithmetic with one row per lane, 8 rows at a time, transposed
// ("Short rows" below): a short row's fixed costs are then shared by 8 rows.
// softmax_temperature keeps an f64-lane pass 2 ((z_i - max) / t is not a float), and sigmoid is
// one f64-lane exp per input.
// logsumexp = max + L cancels where max < 0 and lse ≈ 0: there L is recomputed with glibc's exp
// and a compensated sum (accurate's precision) whenever pass 2's bound cannot promise 1/4 ULP.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
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
#include <hwy/cache_control.h>
#include <hwy/contrib/math/math-inl.h>

#include "simd_lanes-inl.h"

#include "algorithms.hpp"
#include "double_double.hpp"
#include "kernels.hpp"
#include "scratch.hpp"
#include "simd.hpp"
#include "simd_backward.hpp"
#include "simd_f64.hpp"
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
HWY_INLINE hn::Vec<D> ExpNonPositive(D d, hn::Vec<D> x) {
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

// softmax_temperature's passes, in f64 lanes: (z_i - m) / t is not a float, so the f32 path below
// does not apply.
// exp((z_i - m) · scale) for the lanes of d at z (scale = 1/t, within 2^-52 relative, so exp within
// 708 · 2^-52 < 2^-42 more). With kMask, 0 where the shift is below kFloor (-inf entries);
// without, the row has no such entry (ScanRow says so) and the mask is skipped.
template <bool kMask, class D>
HWY_INLINE hn::Vec<D> Term(D d, const float* z, hn::Vec<D> m, hn::Vec<D> scale) {
  const hn::Rebind<float, D> df;
  const auto shift = hn::Mul(hn::Sub(hn::PromoteTo(d, hn::LoadU(df, z)), m), scale);  // z_i - m exact
  if constexpr (!kMask) return ExpNonPositive(d, shift);
  return hn::IfThenZeroElse(hn::Lt(shift, hn::Set(d, kFloor)), ExpNonPositive(d, shift));
}

// Adds Σ exp((z_i - m) · scale) over z[begin, end) ((end - begin) a multiple of Lanes(d)) to sum;
// with kStore, each term also goes to store[i]. Two vectors per step, two accumulators.
template <bool kStore, bool kMask, class D>
HWY_INLINE void ExpSum(D d, const float* z, std::size_t begin, std::size_t end, double m, double* store,
                       double& sum, double scale) {
  const std::size_t lanes = hn::Lanes(d);
  const auto vm = hn::Set(d, m), zero = hn::Zero(d), vscale = hn::Set(d, scale);
  auto total = zero;
  const auto step = [&](std::size_t i, hn::Vec<D>& acc) SOFTCERT_INLINE_LAMBDA {
    const auto e = Term<kMask>(d, z + i, vm, vscale);
    if constexpr (kStore) hn::StoreU(e, d, store + i);
    acc = hn::Add(acc, e);
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
template <bool kStored, bool kMask, class D>
HWY_INLINE void Normalise(D d, const float* z, const double* store, float* y, std::size_t begin,
                          std::size_t end, double m, double inv, double scale) {
  const std::size_t lanes = hn::Lanes(d);
  const auto vm = hn::Set(d, m), vinv = hn::Set(d, inv), vscale = hn::Set(d, scale);
  for (std::size_t i = begin; i < end; i += lanes) {
    hn::Vec<D> e;
    if constexpr (kStored) {
      e = hn::LoadU(d, store + i);
    } else {
      e = Term<kMask>(d, z + i, vm, vscale);
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
  SOFTCERT_UNROLL2
  for (std::size_t i = begin; i < end; i += lanes) {
    const auto shift = hn::Sub(hn::PromoteTo(d, hn::LoadU(df, z + i)), vm);
    StoreRounded(d, hn::Sub(shift, vl), y + i);
  }
}

// What pass 1 learns about a row.
struct RowInfo {
  bool regular;  // no NaN, no +inf, some finite entry (then max is finite)
  float max;
  // In a regular row, min is the least entry above -inf: a -inf entry's term is exactly 0 (pass 2
  // masks it, its output is exact), so it does not make a row deep as a finite entry far below
  // the max does. neg_inf says the row has such entries.
  float min;
  double low_shift;  // min - max
  bool neg_inf;
};

// The least entry of z (n of them, no NaN, some above -inf) above -inf.
HWY_INLINE float MinAboveNegInf(const float* z, std::size_t n) {
  const hn::ScalableTag<float> df;
  const std::size_t lanes = hn::Lanes(df);
  const auto inf = hn::Set(df, std::numeric_limits<float>::infinity()), neg_inf = hn::Neg(inf);
  auto lo = inf;
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes) {
    const auto a = hn::LoadU(df, z + i);
    lo = hn::Min(lo, hn::IfThenElse(hn::Eq(a, neg_inf), inf, a));
  }
  float low = hn::GetLane(hn::MinOfLanes(df, lo));
  for (; i < n; ++i) {
    if (z[i] != -std::numeric_limits<float>::infinity()) low = std::min(low, z[i]);
  }
  return low;
}

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
  // A second look only at rows with -inf entries (masked ones: attention's -inf logits).
  const bool neg_inf = regular && low == -std::numeric_limits<float>::infinity();
  if (neg_inf) low = MinAboveNegInf(z, n);
  return {regular, top, low, double(low) - double(top), neg_inf};
}

// Calls f with std::true_type where `mask` (pass 2 must zero some terms: -inf entries, or entries
// beyond exp's range), std::false_type otherwise, so that each loop is compiled both ways.
template <class F>
HWY_INLINE void WithMask(bool mask, F&& f) {
  if (mask) f(std::true_type());
  else f(std::false_type());
}

// ---------------------------------------------------------------------------------------------
// Pass 2 in f32 lanes, for softmax, log_softmax, logsumexp, cross_entropy (and its gradient) and
// masked_softmax: eight lanes where the f64 path above has four, with the same exactness.
//
// The shift z_i - max is never rounded. With s = 0, or s = max where |max| > kShiftAbove (then
// u_i = z_i - s is exact for every z_i within 150 of max: Sterbenz), u_i = z_i - s is exact, and
// for m_s = max - s and c = n_m ln2/K (n_m the integer nearest m_s K/ln2)
//   exp(u_i - c) = 2^((n_i - n_m)/K) exp(r_i),  n_i = round(u_i K/ln2),  r_i = u_i - n_i ln2/K.
// c cancels in softmax (exp(u_i - c) / Σ_j exp(u_j - c)) and log-sums multiply by exp(c - m_s), so
// it need not be near max: it only keeps the terms in range.
//   - r_i: three-part Cody-Waite, the first two parts 9-bit so that n_i · part is exact
//     (|n_i| < 2^13), each later step rounded once: within 2^-28 absolute, |r_i| <= 1.002 ln2/(2K).
//   - exp(r) = 1 + p, p = r + r^2 Q(r), Q fitted for K (relative error 2^-32.3 for K = 8, 2^-34.5
//     for K = 4 with the f32 coefficients, checked with mpmath at 20001 points); evaluating p
//     rounds within 2^-24 |p| <= 2^-28.5.
//   - 2^(j/K), j = (n_i - n_m) mod K, is a float pair (2^-48) from an in-register table (one
//     permute on AVX2/AVX-512, a load on the scalar target); 2^k is built in the exponent bits,
//     times 2^scale so that every term down to the row's floor stays a normal float.
// Each term is hi + lo: hi = T_hi 2^(k+scale) exactly, lo = (T_hi p + T_lo) 2^(k+scale) rounded
// once (|lo| <= 0.046 hi, so within 2^-28.4 of the term): each term within 2^-26.6 relative.
// The sum takes hi + lo exactly apart (Fast2Sum) into f64 blocks, so S is within 2^-26.6 + (kBlock
// + n/(kBlock · lanes)) 2^-53 too, terms below the floor dropped (see kFloorSoftmax).
// Softmax then rounds (hi + lo) · (1/S) once (an f32 FMA with 1/S as a float pair): within
// 0.5 + 2^24 (2 · 2^-26.6 + 2^-28.4 + 2^-29.4) < 0.70 ULP, subnormal results included (the FMA
// rounds them once from the exact product; terms are never subnormal). log-sums are as before:
// L = log1p(rest) with rest within 2^-26.5 relative.
// ---------------------------------------------------------------------------------------------

// Table entries: 8 where a vector has 8 lanes or more (AVX2, AVX-512) and on the scalar target,
// 4 on SSE4 (128-bit: its own table lookup covers 4 lanes).
constexpr int kTable = (HWY_TARGET == HWY_SCALAR || HWY_LANES(float) >= 8) ? 8 : 4;
constexpr int kTableShift = kTable == 8 ? 3 : 2;
// 2^(j/8) = kExp2Hi[j] + kExp2Lo[j] within 2^-49.5 relative (mpmath).
constexpr float kExp2Hi[8] = {0x1p+0f,          0x1.172b84p+0f, 0x1.306fep+0f,   0x1.4bfdaep+0f,
                              0x1.6a09e6p+0f,   0x1.8ace54p+0f, 0x1.ae89fap+0f,  0x1.d5818ep+0f};
constexpr float kExp2Lo[8] = {0.0f,              -0x1.c15742p-27f, 0x1.4636e2p-25f, -0x1.593abcp-25f,
                              0x1.9fcef4p-26f,   0x1.15506ep-27f,  -0x1.a94b14p-26f, -0x1.822dbcp-27f};
// ln 2 = part1 + part2 + part3 within 2^-52.8; part1 and part2 have 9 significant bits.
constexpr float kLn2Part1 = 0x1.63p-1f, kLn2Part2 = -0x1.bdp-13f, kLn2Part3 = -0x1.05c61p-29f;
constexpr double kLn2Lo = 0x1.abc9e3b39803fp-56;  // ln 2 - kLn2
constexpr float kShifterF = 0x1.8p23f;  // adding it rounds to an integer, left in the low mantissa bits
constexpr std::int32_t kShifterBits = 0x4B400000;  // its bits
constexpr float kShiftAbove = 350;      // |u_i| <= 350 + 150, so |n_i| < 2^13
// Terms more than this below the max are 0 (in rows whose min says some are): softmax outputs
// there are below e^-104 < 2^-150 and round to +0 anyway; log-sums lose at most n e^-150, below
// 2^-216 n absolute.
constexpr float kFloorSoftmax = -104, kFloorLogSum = -150;
// 2^(kFloor log2(e) - 1 + scale) >= 2^-126: terms down to the floor are normal floats.
constexpr int kScaleSoftmax = 64, kScaleLogSum = 96;
// 2^-kScaleLogSum, for a multiplication in place of a call to ldexp.
constexpr double kUnscaleLogSum = [] {
  double v = 1;
  for (int i = 0; i < kScaleLogSum; ++i) v /= 2;
  return v;
}();

// What pass 2 needs of a row: host-side constants, computed once per row.
struct TermRow {
  float s;        // the exact shift: u_i = z_i - s
  float max;      // the row's max (ties of log-sums compare with it)
  float floor;    // z_i below it give 0 where the row needs the mask (max + kFloor, rounded)
  std::int32_t n_max;  // n_m
  int scale;      // terms are exp(u_i - c) · 2^scale
  double r_max;   // m_s - c, for log-sums
};

HWY_INLINE TermRow MakeTermRow(float max, float floor, int scale) {
  TermRow row;
  row.s = std::fabs(max) > kShiftAbove ? max : 0.0f;
  row.max = max;
  row.floor = max + floor;
  row.scale = scale;
  const double m_s = double(max) - double(row.s);
  const double n = std::nearbyint(m_s * (kTable / kLn2));
  row.n_max = static_cast<std::int32_t>(n);
  row.r_max = std::fma(-n, kLn2 / kTable, m_s) - n * (kLn2Lo / kTable);
  return row;
}

// e^x for |x| <= 0.05 in f64 lanes: Taylor to x^8 (remainder below 2^-58; evaluated within a few
// 2^-53, fused or not), for exp(c - m_s) of each row.
// Written out: GCC keeps a loop over the coefficients, a quarter of a short row's log-sum.
template <class D>
HWY_INLINE hn::Vec<D> ExpSmall(D d, hn::Vec<D> x) {
  auto p = hn::MulAdd(hn::Set(d, 1.0 / 40320), x, hn::Set(d, 1.0 / 5040));
  p = hn::MulAdd(p, x, hn::Set(d, 1.0 / 720));
  p = hn::MulAdd(p, x, hn::Set(d, 1.0 / 120));
  p = hn::MulAdd(p, x, hn::Set(d, 1.0 / 24));
  p = hn::MulAdd(p, x, hn::Set(d, 1.0 / 6));
  p = hn::MulAdd(p, x, hn::Set(d, 0.5));
  p = hn::MulAdd(p, x, hn::Set(d, 1.0));
  return hn::MulAdd(p, x, hn::Set(d, 1.0));
}

// The lanes of one target's pass 2: constants broadcast once per row.
template <class DF>
struct TermLanes {
  using VF = hn::Vec<DF>;
  using DI = hn::RebindToSigned<DF>;
  using VI = hn::Vec<DI>;
  VF s, floor, max, inv, shifter, part1, part2, part3, c2, c3, c4, c5, t_hi, t_lo;
  // t's bits - offset = (n_i - n_m) + K (scale + 127): its quotient by K is the biased exponent
  // of 2^(k + scale), its remainder j.
  VI offset;

  TermLanes(DF df, const TermRow& row) : TermLanes(df) {
    const DI di;
    s = hn::Set(df, row.s), floor = hn::Set(df, row.floor), max = hn::Set(df, row.max);
    offset = hn::Set(di, kShifterBits + row.n_max - kTable * (row.scale + 127));
  }

  // One row per lane (a group of short rows, see InGroups): lane j holds row j's max, s and n_m.
  // Such rows are never deep: the floor only catches -inf entries.
  TermLanes(DF df, VF row_max, VF row_s, VI n_max, int scale) : TermLanes(df) {
    const DI di;
    s = row_s, max = row_max, floor = hn::Set(df, std::numeric_limits<float>::lowest());
    offset = hn::Add(n_max, hn::Set(di, kShifterBits - kTable * (scale + 127)));
  }

 private:
  // The constants of every row.
  explicit TermLanes(DF df) {
    inv = hn::Set(df, static_cast<float>(kTable / kLn2)), shifter = hn::Set(df, kShifterF);
    part1 = hn::Set(df, kLn2Part1 / kTable), part2 = hn::Set(df, kLn2Part2 / kTable);
    part3 = hn::Set(df, kLn2Part3 / kTable);
    if constexpr (kTable == 8) {
      c2 = hn::Set(df, 0.5f), c3 = hn::Set(df, 0x1.555c7cp-3f), c4 = hn::Set(df, 0x1.554834p-5f), c5 = hn::Zero(df);
    } else {
      c2 = hn::Set(df, 0x1.fffffep-2f), c3 = hn::Set(df, 0x1.555558p-3f), c4 = hn::Set(df, 0x1.5573a4p-5f), c5 = hn::Set(df, 0x1.110846p-7f);
    }
    // Lane i holds entry i mod K (of the K-entry table, every 8/K-th of the 8 above).
    HWY_ALIGN float hi[hn::MaxLanes(df)], lo[hn::MaxLanes(df)];
    for (std::size_t i = 0; i < hn::Lanes(df); ++i) {
      hi[i] = kExp2Hi[(i % kTable) * (8 / kTable)];
      lo[i] = kExp2Lo[(i % kTable) * (8 / kTable)];
    }
    t_hi = hn::Load(df, hi), t_lo = hn::Load(df, lo);
  }

 public:
  // exp(z_i - s - c) · 2^scale as hi + lo (see above).
  HWY_INLINE void Term(DF df, VF z, VF& hi, VF& lo) const {
    const DI di;
    const VF u = hn::Sub(z, s);
    const VF t = hn::MulAdd(u, inv, shifter);
    const VF n = hn::Sub(t, shifter);
    VF r = hn::NegMulAdd(n, part1, u);  // exact
    r = hn::NegMulAdd(n, part2, r);
    r = hn::NegMulAdd(n, part3, r);
    VF q = c4;
    if constexpr (kTable == 4) q = hn::MulAdd(c5, r, c4);
    q = hn::MulAdd(q, r, c3);
    q = hn::MulAdd(q, r, c2);
    const VF p = hn::MulAdd(hn::Mul(r, r), q, r);
    const VI biased = hn::Sub(hn::BitCast(di, t), offset);
    const VI j = hn::And(biased, hn::Set(di, kTable - 1));
    const VF scale = hn::BitCast(df, hn::ShiftLeft<23>(hn::ShiftRight<kTableShift>(biased)));
#if HWY_TARGET == HWY_SCALAR
    const auto at = static_cast<std::size_t>(hn::GetLane(j)) * (8 / kTable);
    const VF th = hn::Set(df, kExp2Hi[at]), tl = hn::Set(df, kExp2Lo[at]);
#else
    const VF th = hn::TableLookupLanes(t_hi, hn::IndicesFromVec(df, j));
    const VF tl = hn::TableLookupLanes(t_lo, hn::IndicesFromVec(df, j));
#endif
    hi = hn::Mul(th, scale);
    lo = hn::Mul(hn::MulAdd(th, p, tl), scale);
  }

  // hi and lo zeroed where z is below the floor (pass 2's mask).
  HWY_INLINE void Mask(VF z, VF& hi, VF& lo) const {
    const auto deep = hn::Lt(z, floor);
    hi = hn::IfThenZeroElse(deep, hi), lo = hn::IfThenZeroElse(deep, lo);
  }
};

// f64 lanes taking half of an f32 vector each (the whole of it on the scalar target).
#if HWY_TARGET == HWY_SCALAR
template <class DF>
using WideTag = hn::Rebind<double, DF>;
#else
template <class DF>
using WideTag = hn::Rebind<double, hn::Half<DF>>;
#endif

// a0, a1 += the lanes of v, widened to f64.
template <class DF>
HWY_INLINE void AddWide(DF df, hn::Vec<WideTag<DF>>& a0, hn::Vec<WideTag<DF>>& a1, hn::Vec<DF> v) {
  const WideTag<DF> dd;
#if HWY_TARGET == HWY_SCALAR
  (void)df, (void)a1;
  a0 = hn::Add(a0, hn::PromoteTo(dd, v));
#else
  const hn::Half<DF> dh;
  a0 = hn::Add(a0, hn::PromoteTo(dd, hn::LowerHalf(dh, v)));
  a1 = hn::Add(a1, hn::PromoteTo(dd, hn::UpperHalf(dh, v)));
#endif
}

// Pass 2 over z[begin, end): adds Σ exp(z_i - s - c) 2^scale to sum; with kSplit only over the
// z_i < max, the number of z_i = max going to ties. kStore keeps each term's hi at hi_out[i] and
// lo at lo_out[i]; kMask zeroes the terms below the floor (-inf entries, and a deep row's). hi + lo
// is split exactly (Fast2Sum: hi >= |lo|) into a sum s, added in f64, and an error e <= 2^-24 s,
// added in f32.
template <bool kSplit, bool kStore, bool kMask, class DF>
HWY_INLINE void TermSum(DF df, const TermLanes<DF>& e, const float* z, std::size_t begin, std::size_t end,
                        float* hi_out, float* lo_out, double& sum, double& ties) {
  using VF = hn::Vec<DF>;
  const WideTag<DF> dd;
  const std::size_t lanes = hn::Lanes(df);
  const VF zero = hn::Zero(df), one = hn::Set(df, 1.0f);
  const float row_max = hn::GetLane(e.max);
  // One vector at i, of `count` lanes in the row (all of them but in the last vector).
  const auto step = [&](auto partial, std::size_t i, std::size_t count, auto& a0, auto& a1, VF& err,
                        VF& top) SOFTCERT_INLINE_LAMBDA {
    constexpr bool kPartial = decltype(partial)::value;
    const auto valid = hn::FirstN(df, count);
    const VF x = kPartial ? LoadPartial(df, z + i, count, row_max) : hn::LoadU(df, z + i);
    VF hi, lo;
    e.Term(df, x, hi, lo);
    if constexpr (kMask) e.Mask(x, hi, lo);
    if constexpr (kPartial) hi = hn::IfThenElseZero(valid, hi), lo = hn::IfThenElseZero(valid, lo);
    if constexpr (kStore) {
      if constexpr (kPartial) {
        StorePartial(df, hi, hi_out + i, count), StorePartial(df, lo, lo_out + i, count);
      } else {
        hn::StoreU(hi, df, hi_out + i), hn::StoreU(lo, df, lo_out + i);
      }
    }
    if constexpr (kSplit) {
      auto at_max = hn::Eq(x, e.max);
      if constexpr (kPartial) at_max = hn::And(at_max, valid);
      hi = hn::IfThenZeroElse(at_max, hi), lo = hn::IfThenZeroElse(at_max, lo);
      top = hn::Add(top, hn::IfThenElseZero(at_max, one));
    }
    VF s, e;
    FastTwoSum(hi, lo, s, e);
    err = hn::Add(err, e);
    AddWide(df, a0, a1, s);
  };
  // Each block's f64 lanes, f32 errors and tie counts (<= kBlock per lane: exact) join the totals.
  // (A plain loop, not a lambda per block: GCC keeps such a lambda out of line, which costs a
  // short row as much as its terms.)
  double total = 0, total_ties = 0;
  std::size_t i = begin;
  while (i < end) {
    const std::size_t stop = std::min(end, i + kBlock * lanes);
    auto a0 = hn::Zero(dd), a1 = a0;
    VF err = zero, top = zero;
    SOFTCERT_UNROLL2
    for (; i + lanes <= stop; i += lanes) step(std::false_type(), i, lanes, a0, a1, err, top);
    if (i < stop) {
      step(std::true_type(), i, stop - i, a0, a1, err, top);
      i = stop;
    }
    total += hn::GetLane(hn::SumOfLanes(dd, hn::Add(a0, a1))) + double(hn::GetLane(hn::SumOfLanes(df, err)));
    if constexpr (kSplit) total_ties += double(hn::GetLane(hn::SumOfLanes(df, top)));
  }
  sum += total;
  if constexpr (kSplit) ties += total_ties;
}

// (hi + lo) · inv rounded once to f32. Where the target fuses and every output is at least 2^-100
// (kWide false): one FMA, inv = inv_hi + inv_lo within 2^-48, lo · inv_lo dropped (2^-29.4), the
// inner products normal. Elsewhere (no FMA, or a deep row, where those inner products could be
// subnormal and round by 2^-150 absolute): in f64 lanes, hi + lo and the product within 2^-52,
// then rounded to f32 once (subnormal results included). inv_lower and inv_upper are 1/S in f64
// for the lower and upper half of the lanes (the same where the vector is one row).
template <bool kWide, class DF>
HWY_INLINE hn::Vec<DF> RoundedQuotient(DF df, hn::Vec<DF> hi, hn::Vec<DF> lo, hn::Vec<DF> inv_hi, hn::Vec<DF> inv_lo,
                                       hn::Vec<WideTag<DF>> inv_lower, hn::Vec<WideTag<DF>> inv_upper) {
#if HWY_TARGET == HWY_SSE4 || HWY_TARGET == HWY_SSSE3 || HWY_TARGET == HWY_SCALAR || HWY_TARGET == HWY_EMU128
  constexpr bool kFused = false;
#else
  constexpr bool kFused = true;
#endif
  if constexpr (kFused && !kWide) {
    (void)df, (void)inv_lower, (void)inv_upper;
    return hn::MulAdd(hi, inv_hi, hn::MulAdd(lo, inv_hi, hn::Mul(hi, inv_lo)));
  } else {
    (void)inv_hi, (void)inv_lo;
    const WideTag<DF> dd;
#if HWY_TARGET == HWY_SCALAR
    (void)inv_upper;
    return hn::DemoteTo(df, hn::Mul(hn::Add(hn::PromoteTo(dd, hi), hn::PromoteTo(dd, lo)), inv_lower));
#else
    const hn::Half<DF> dh;
    const auto low = hn::Mul(hn::Add(hn::PromoteTo(dd, hn::LowerHalf(dh, hi)), hn::PromoteTo(dd, hn::LowerHalf(dh, lo))),
                             inv_lower);
    const auto high = hn::Mul(
        hn::Add(hn::PromoteTo(dd, hn::UpperHalf(dh, hi)), hn::PromoteTo(dd, hn::UpperHalf(dh, lo))), inv_upper);
    return hn::Combine(df, hn::DemoteTo(dh, high), hn::DemoteTo(dh, low));
#endif
  }
}

// Pass 3 of softmax: y_i = (hi_i + lo_i) · inv rounded once, hi_i and lo_i stored by pass 2 (hi in
// y itself) or recomputed from z (kMask as in pass 2); inv = inv_hi + inv_lo = 1/S. kWide: some
// output could be below 2^-100 (see RoundedQuotient).
template <bool kStored, bool kMask, bool kWide, class DF>
HWY_INLINE void TermNormalise(DF df, const TermLanes<DF>& e, const float* z, const float* lo_in, float* y,
                              std::size_t n, double inv) {
  using VF = hn::Vec<DF>;
  const std::size_t lanes = hn::Lanes(df);
  const float inv_hi_s = static_cast<float>(inv);
  const VF inv_hi = hn::Set(df, inv_hi_s), inv_lo = hn::Set(df, static_cast<float>(inv - double(inv_hi_s)));
  const auto inv_wide = hn::Set(WideTag<DF>(), inv);
  const float row_max = hn::GetLane(e.max);
  const auto step = [&](auto partial, std::size_t i, std::size_t count) SOFTCERT_INLINE_LAMBDA {
    constexpr bool kPartial = decltype(partial)::value;
    VF hi, lo;
    if constexpr (kStored) {
      if constexpr (kPartial) hi = LoadPartial(df, y + i, count, 0.0f), lo = LoadPartial(df, lo_in + i, count, 0.0f);
      else hi = hn::LoadU(df, y + i), lo = hn::LoadU(df, lo_in + i);
    } else {
      const VF x = kPartial ? LoadPartial(df, z + i, count, row_max) : hn::LoadU(df, z + i);
      e.Term(df, x, hi, lo);
      if constexpr (kMask) e.Mask(x, hi, lo);
    }
    const VF out = RoundedQuotient<kWide>(df, hi, lo, inv_hi, inv_lo, inv_wide, inv_wide);
    if constexpr (kPartial) StorePartial(df, out, y + i, count);
    else hn::StoreU(out, df, y + i);
  };
  std::size_t i = 0;
  SOFTCERT_UNROLL2
  for (; i + lanes <= n; i += lanes) step(std::false_type(), i, lanes);
  if (i < n) step(std::true_type(), i, n - i);
}

// Calls f(mask, wide) with std::true_type or std::false_type for each, so that each loop is
// compiled for the three cases: wide (and mask) where the row has finite entries more than `depth`
// below its max (pass 2 masks those below the floor, pass 3 rounds in f64); mask alone where it
// has -inf entries (pass 2 zeroes their terms, and their outputs are exactly 0 whatever pass 3
// rounds in); neither otherwise.
template <class F>
HWY_INLINE void WithDepth(const RowInfo& row, double depth, F&& f) {
  if (!(row.low_shift >= -depth)) f(std::true_type(), std::true_type());
  else if (row.neg_inf) f(std::true_type(), std::false_type());
  else f(std::false_type(), std::false_type());
}

// The depth beyond which a softmax row is deep: where some output could be below 2^-100
// (e^(min - max) / n < 2^-100); beyond kFloorSoftmax in any case.
inline double SoftmaxDepth(std::size_t n) { return std::min(69.3 - std::log(double(n)), double(-kFloorSoftmax)); }

// Temperature's pass 2 over z[begin, end): full vectors, then the tail one lane at a time with the
// same arithmetic.
template <bool kStore, bool kMask>
HWY_INLINE void RowSum(const float* z, std::size_t begin, std::size_t end, double m, double* store, double& sum,
                       double scale) {
  const hn::ScalableTag<double> d;
  const hn::CappedTag<double, 1> d1;
  const std::size_t body = end - (end - begin) % hn::Lanes(d);
  ExpSum<kStore, kMask>(d, z, begin, body, m, store, sum, scale);
  ExpSum<kStore, kMask>(d1, z, body, end, m, store, sum, scale);
}

// Temperature's pass 3 over the row: y_i = e_i / S, e_i from the scratch row or recomputed.
template <bool kMask>
HWY_INLINE void RowNormalise(const float* z, const double* store, float* y, std::size_t n, double m, double inv,
                             double scale) {
  const hn::ScalableTag<double> d;
  const hn::CappedTag<double, 1> d1;
  const std::size_t body = n - n % hn::Lanes(d);
  if (store) {
    Normalise<true, kMask>(d, z, store, y, 0, body, m, inv, scale);
    Normalise<true, kMask>(d1, z, store, y, body, n, m, inv, scale);
  } else {
    Normalise<false, kMask>(d, z, nullptr, y, 0, body, m, inv, scale);
    Normalise<false, kMask>(d1, z, nullptr, y, body, n, m, inv, scale);
  }
}

// 2^-scale · exp(c - m_s), from r_max = m_s - c: what a log-sum's rest is multiplied by. Formed
// before pass 2, which does not need it, so that its chain of latencies overlaps the terms'.
template <class D>
HWY_INLINE hn::Vec<D> RestFactor(D d, hn::Vec<D> r_max) {
  return hn::Mul(hn::Set(d, kUnscaleLogSum), ExpSmall(d, hn::Neg(r_max)));
}

// L = log Σ_j exp(z_j - m) = log1p((ties - 1) + rest · factor) in f64 lanes: log1p of the sum
// without one max's own term 1 (no cancellation where the max dominates), from pass 2's rest (the
// terms below the max) and ties (the entries at the max) and RestFactor. rest · factor is exact
// scaling times exp(c - m_s) (rest >= 2^-150 · 2^scale or 0: far from the subnormal range);
// Highway's log1p is within 2 ULP of f64.
template <class D>
HWY_INLINE hn::Vec<D> LogSumOfRest(D d, hn::Vec<D> rest, hn::Vec<D> ties, hn::Vec<D> factor) {
  return hn::Log1p(d, hn::Add(hn::Add(ties, hn::Set(d, -1.0)), hn::Mul(rest, factor)));
}

// L of a row, pass 2 in f32 lanes.
HWY_INLINE double LogSum(const float* z, std::size_t n, const RowInfo& row) {
  const hn::ScalableTag<float> df;
  const hn::CappedTag<double, 1> d1;
  const TermRow term_row = MakeTermRow(row.max, kFloorLogSum, kScaleLogSum);
  const auto factor = RestFactor(d1, hn::Set(d1, term_row.r_max));
  const TermLanes<hn::ScalableTag<float>> lanes(df, term_row);
  double rest = 0, ties = 0;
  WithMask(row.neg_inf || !(row.low_shift >= kFloorLogSum), [&](auto mask) {
    TermSum<true, false, decltype(mask)::value>(df, lanes, z, 0, n, nullptr, nullptr, rest, ties);
  });
  return hn::GetLane(LogSumOfRest(d1, hn::Set(d1, rest), hn::Set(d1, ties), factor));
}

// The gradient's label entry p_y - 1 = -(Σ_{j != y} e_j) / S from rest = Σ_{j != y} e_j and inv =
// 1/S: it keeps its bits where p_y ≈ 1 (p_y - 1 would cancel); +0 where rest is 0 (1 - 1).
inline float GradAtLabel(double rest, double inv) { return rest == 0 ? 0.0f : static_cast<float>(-(rest * inv)); }

// ---------------------------------------------------------------------------------------------
// Short rows. A row's fixed costs (pass 1's max across lanes, its constants, the sum across lanes,
// 1/S, log1p: each a chain of latencies) cost a row of 16 more than its terms do. So a row of
// n <= kGroupMaxN that is regular and shallow (no finite entry far enough below the max to need
// the mask or f64 rounding; ShallowRow) is computed with lane arithmetic: pass 2's terms with the
// row's constants formed in lanes (GroupTermLanes), -inf entries' terms masked to 0 where there are
// any, summed in column order into two f64 sums and two f32 errors (even and odd columns), then
// 1/S or log1p in f64 lanes.
// Where G such rows follow each other they go as a group (G = the f32 lanes, at most 8),
// transposed: the group's column c is one vector whose lane j is z_jc, and every step, pass 1's
// max included, is one vector operation for G rows. A row without a whole group goes in its own
// layout, its terms in vectors and their sums in the same order (RowTermSumInOrder): the same
// operations on the same values, so a row gives the same bits whatever rows surround it. (Two sums,
// not one: the row alone adds them one term at a time, and two chains of additions take half as
// long as one.)
// Each term and output is pass 2's and pass 3's arithmetic, so their bounds hold as they are; only
// the order of the sum differs: n/2 <= kGroupMaxN/2 terms one after the other, then the two sums,
// so within (n/2 + 1) 2^-53 <= kBlock 2^-53.
// ---------------------------------------------------------------------------------------------

// The lanes of a group: 8 at most (an AVX-512 target uses 256-bit vectors here), 4 on SSE4; the
// scalar target has no lane arithmetic (kGroupMaxN 0).
using GroupTag = hn::CappedTag<float, 8>;
// The longest rows that take lane arithmetic: kGroupMaxRowOut where the group itself writes rows
// of outputs (softmax and the gradient: each output needs its term, kept transposed in the
// group), kGroupMaxN where it writes none (logsumexp and cross_entropy, one output per row, and
// log_softmax, whose rows are written one by one from x and L after the group).
// Measured ad hoc (rows of 16M elements in all, out of cache, and of 32K, in cache):
//   - the group writing rows: up to 64, groups gained in and out of cache (n = 32, 1.2-1.4
//     ns/element against 1.9-2.3 row by row; n = 64 as fast or faster). At 128 they gained in
//     cache but lost out of it (1.5-2.1 against 1.2-1.6): the group's outputs go out at its end, 8
//     rows of stores that miss the cache at once, where a row's own passes spread them over its
//     arithmetic. Prefetching y (for reading or writing), staging the rows before storing them and
//     fetching x into L2 only did not change that.
//   - no rows from the group: at 128 groups gained in and out of cache (logsumexp 1.07-1.14
//     against 1.44-1.61, cross_entropy 1.08-1.28 against 1.57-1.63, log_softmax 1.42-1.47 against
//     1.57-1.67 and in cache 1.09 against 1.55); at 256 they lost out of cache.
constexpr std::size_t kGroupMaxN = HWY_TARGET == HWY_SCALAR ? 0 : 128;
constexpr std::size_t kGroupMaxRowOut = HWY_TARGET == HWY_SCALAR ? 0 : 64;

// A row of n <= kGroupMaxN takes lane arithmetic where it is regular and min - max, rounded to
// f32, is at least this (for rows no deeper than depth): the rounding is within 2^-24 of the
// spread (2^-17 absolute here), so the margin keeps every such row at least depth deep. The same
// test in lanes (LoadGroup) and for one row (ShallowRow): the same rows either way.
inline float ShallowLimit(double depth) { return static_cast<float>(-depth + 0x1p-10); }
inline bool ShallowRow(const RowInfo& row, double depth) {
  return row.regular && !(row.min - row.max < ShallowLimit(depth));
}

#if HWY_TARGET != HWY_SCALAR  // (its Highway has no halves or interleaves)

// The G × G block v[0..G) (rows) becomes its transpose (v[c] lane j = old v[j] lane c), G = 4 or 8.
template <class DF>
HWY_INLINE void Transpose(DF df, hn::Vec<DF>* v) {
  constexpr std::size_t G = hn::MaxLanes(df);
  static_assert(G == 4 || G == 8, "4 or 8 lanes");
  const hn::Repartition<std::uint64_t, DF> du;  // pairs of lanes moved as one
  hn::Vec<DF> t[G];
  // Within each 128-bit block: pairs of rows interleaved, then pairs of pairs.
  for (std::size_t k = 0; k < G; k += 2) {
    t[k] = hn::InterleaveLower(df, v[k], v[k + 1]);
    t[k + 1] = hn::InterleaveUpper(df, v[k], v[k + 1]);
  }
  for (std::size_t q = 0; q < G; q += 4) {
    const auto a = hn::BitCast(du, t[q]), b = hn::BitCast(du, t[q + 1]);
    const auto c = hn::BitCast(du, t[q + 2]), d = hn::BitCast(du, t[q + 3]);
    v[q] = hn::BitCast(df, hn::InterleaveLower(du, a, c));
    v[q + 1] = hn::BitCast(df, hn::InterleaveUpper(du, a, c));
    v[q + 2] = hn::BitCast(df, hn::InterleaveLower(du, b, d));
    v[q + 3] = hn::BitCast(df, hn::InterleaveUpper(du, b, d));
  }
  // Eight lanes: v[c] holds column c of rows 0-3 below, column c + 4 above (rows 4-7 in v[c + 4]).
  if constexpr (G == 8) {
    for (std::size_t c = 0; c < 4; ++c) {
      const auto low = v[c], high = v[c + 4];
      v[c] = hn::ConcatLowerLower(df, high, low);
      v[c + 4] = hn::ConcatUpperUpper(df, high, low);
    }
  }
}

// G rows at x of n <= kGroupMaxN as n columns of G lanes in cols, with pass 1 in lanes: max gets
// each row's max; the result holds the lanes whose rows take lane arithmetic (ShallowRow's test,
// on the least entry above -inf as ScanRow's), neg_inf whether any of them has -inf entries.
template <class DF>
HWY_INLINE hn::Mask<DF> LoadGroup(DF df, const float* x, std::size_t n, float* cols, hn::Vec<DF>& max, double depth,
                                  bool& neg_inf) {
  using VF = hn::Vec<DF>;
  constexpr std::size_t G = hn::MaxLanes(df);
  const VF inf = hn::Set(df, std::numeric_limits<float>::infinity());
  VF high = hn::Neg(inf), low = inf;
  auto nan = hn::IsNaN(high);  // all false
  VF v[G];
  for (std::size_t b = 0; b < n; b += G) {
    const std::size_t width = std::min(G, n - b);
    for (std::size_t i = 0; i < G; ++i) {
      v[i] = width == G ? hn::LoadU(df, x + i * n + b) : LoadPartial(df, x + i * n + b, width);
    }
    Transpose(df, v);
    for (std::size_t c = 0; c < width; ++c) {
      high = hn::Max(high, v[c]), low = hn::Min(low, v[c]);
      nan = hn::Or(nan, hn::IsNaN(v[c]));  // Max drops NaN on some targets
      hn::Store(v[c], df, cols + (b + c) * G);
    }
  }
  max = high;
  const auto regular = hn::AndNot(nan, hn::IsFinite(high));
  const auto with_neg_inf = hn::And(regular, hn::Eq(low, hn::Neg(inf)));
  neg_inf = !hn::AllFalse(df, with_neg_inf);
  if (neg_inf) {  // a second look, from the columns, only where a row has -inf entries
    low = inf;
    for (std::size_t c = 0; c < n; ++c) {
      const VF z = hn::Load(df, cols + c * G);
      low = hn::Min(low, hn::IfThenElse(hn::Eq(z, hn::Neg(inf)), inf, z));
    }
  }
  const auto shallow = hn::Not(hn::Lt(hn::Sub(low, high), hn::Set(df, ShallowLimit(depth))));
  const auto taken = hn::And(regular, shallow);
  neg_inf = neg_inf && !hn::AllFalse(df, hn::And(taken, with_neg_inf));
  return taken;
}

// The bits of mask m, lane j in bit j.
template <class DF>
HWY_INLINE unsigned LaneBits(DF df, hn::Mask<DF> m) {
  std::uint8_t bits[8] = {};
  hn::StoreMaskBits(df, m, bits);
  return bits[0];
}

// G rows at y of n <= kGroupMaxN from the columns of G lanes in cols: only the rows in `rows`.
template <class DF>
HWY_INLINE void StoreGroup(DF df, const float* cols, std::size_t n, float* y, hn::Mask<DF> rows) {
  using VF = hn::Vec<DF>;
  constexpr std::size_t G = hn::MaxLanes(df);
  const unsigned stored = LaneBits(df, rows);
  VF v[G];
  for (std::size_t b = 0; b < n; b += G) {
    const std::size_t width = std::min(G, n - b);
    for (std::size_t c = 0; c < G; ++c) v[c] = c < width ? hn::Load(df, cols + (b + c) * G) : hn::Zero(df);
    Transpose(df, v);
    for (std::size_t i = 0; i < G; ++i) {
      if (!((stored >> i) & 1)) continue;
      if (width == G) hn::StoreU(v[i], df, y + i * n + b);
      else StorePartial(df, v[i], y + i * n + b, width);
    }
  }
}

// Each lane's TermRow (MakeTermRow's arithmetic in lanes, from the row's max in that lane) as
// TermLanes; with r_max, also m_s - c for the lower and upper half of the lanes (log-sums).
template <class DF>
HWY_INLINE TermLanes<DF> GroupTermLanes(DF df, hn::Vec<DF> max, int scale, hn::Vec<WideTag<DF>>* r_max = nullptr) {
  const WideTag<DF> dd;
  const hn::Half<DF> dh;
  const hn::RebindToSigned<DF> di;
  const hn::Rebind<std::int32_t, WideTag<DF>> di_half;
  const auto big = hn::Gt(hn::Abs(max), hn::Set(df, kShiftAbove));
  const auto s = hn::IfThenElseZero(big, max), m_s = hn::IfThenZeroElse(big, max);
  const auto m_lower = hn::PromoteTo(dd, hn::LowerHalf(dh, m_s)), m_upper = hn::PromoteTo(dd, hn::UpperHalf(dh, m_s));
  const auto k = hn::Set(dd, kTable / kLn2);
  const auto n_lower = hn::Round(hn::Mul(m_lower, k)), n_upper = hn::Round(hn::Mul(m_upper, k));
  const auto n_max = hn::Combine(di, hn::DemoteTo(di_half, n_upper), hn::DemoteTo(di_half, n_lower));
  if (r_max) {
    const auto part = hn::Set(dd, kLn2 / kTable), part_lo = hn::Set(dd, kLn2Lo / kTable);
    r_max[0] = hn::Sub(hn::NegMulAdd(n_lower, part, m_lower), hn::Mul(n_lower, part_lo));
    r_max[1] = hn::Sub(hn::NegMulAdd(n_upper, part, m_upper), hn::Mul(n_upper, part_lo));
  }
  return TermLanes<DF>(df, max, s, n_max, scale);
}

// Pass 2 over a group's n columns: each lane's Σ exp(z_jc - s_j - c_j) 2^scale into sum[0] (lower
// half of the lanes) and sum[1] (upper half): the even and the odd columns' terms each in column
// order, then added. kStore keeps hi over the logits in cols and lo in lo_cols; kSplit sums only
// the terms below the max, counting the ties; kMask zeroes the terms of -inf entries. With label
// (each lane's label, as a float), the label's term goes to own (halves as sum) instead of sum.
template <bool kSplit, bool kStore, bool kMask, class DF>
HWY_INLINE void GroupTermSum(DF df, const TermLanes<DF>& e, float* cols, float* lo_cols, std::size_t n,
                             hn::Vec<WideTag<DF>>* sum, hn::Vec<DF>& ties, const hn::Vec<DF>* label = nullptr,
                             hn::Vec<WideTag<DF>>* own = nullptr) {
  using VF = hn::Vec<DF>;
  constexpr std::size_t G = hn::MaxLanes(df);
  const WideTag<DF> dd;
  const hn::Half<DF> dh;
  const VF one = hn::Set(df, 1.0f);
  auto even0 = hn::Zero(dd), even1 = even0, odd0 = even0, odd1 = even0;
  VF even_err = hn::Zero(df), odd_err = even_err, top = even_err, own_s = even_err, own_r = even_err;
  const auto step = [&](std::size_t c, auto& a0, auto& a1, VF& err) SOFTCERT_INLINE_LAMBDA {
    const VF x = hn::Load(df, cols + c * G);
    VF hi, lo;
    e.Term(df, x, hi, lo);
    if constexpr (kMask) e.Mask(x, hi, lo);
    if constexpr (kStore) hn::Store(hi, df, cols + c * G), hn::Store(lo, df, lo_cols + c * G);
    if constexpr (kSplit) {
      const auto at_max = hn::Eq(x, e.max);
      hi = hn::IfThenZeroElse(at_max, hi), lo = hn::IfThenZeroElse(at_max, lo);
      top = hn::Add(top, hn::IfThenElseZero(at_max, one));
    }
    VF s, r;
    FastTwoSum(hi, lo, s, r);
    if (label) {  // the sums add +0 there: as if the label's term were left out
      const auto at_label = hn::Eq(hn::Set(df, static_cast<float>(c)), *label);
      own_s = hn::IfThenElse(at_label, s, own_s), own_r = hn::IfThenElse(at_label, r, own_r);
      s = hn::IfThenZeroElse(at_label, s), r = hn::IfThenZeroElse(at_label, r);
    }
    err = hn::Add(err, r);
    AddWide(df, a0, a1, s);
  };
  std::size_t c = 0;
  for (; c + 2 <= n; c += 2) step(c, even0, even1, even_err), step(c + 1, odd0, odd1, odd_err);
  if (c < n) step(c, even0, even1, even_err);
  const VF err = hn::Add(even_err, odd_err);
  sum[0] = hn::Add(hn::Add(even0, odd0), hn::PromoteTo(dd, hn::LowerHalf(dh, err)));
  sum[1] = hn::Add(hn::Add(even1, odd1), hn::PromoteTo(dd, hn::UpperHalf(dh, err)));
  ties = top;
  if (own) {
    own[0] = hn::Add(hn::PromoteTo(dd, hn::LowerHalf(dh, own_s)), hn::PromoteTo(dd, hn::LowerHalf(dh, own_r)));
    own[1] = hn::Add(hn::PromoteTo(dd, hn::UpperHalf(dh, own_s)), hn::PromoteTo(dd, hn::UpperHalf(dh, own_r)));
  }
}

// Pass 2 over one row z of n <= kGroupMaxN in its own layout, with GroupTermSum's arithmetic for
// one lane (e's lanes all hold the row's constants): the terms in vectors, each split by Fast2Sum
// as there, then summed in the same order (even and odd terms apart, f64 sums, f32 errors). kStore
// keeps hi at hi_out and lo at lo_out; kSplit, kMask and own (the term at label) as GroupTermSum
// (ties counted exactly either way).
template <bool kSplit, bool kStore, bool kMask, class DF>
HWY_INLINE void RowTermSumInOrder(DF df, const TermLanes<DF>& e, const float* z, std::size_t n, float* hi_out,
                                  float* lo_out, double& sum, float& ties, std::size_t label = 0,
                                  double* own = nullptr) {
  using VF = hn::Vec<DF>;
  constexpr std::size_t G = hn::MaxLanes(df);
  HWY_ALIGN float sums[kGroupMaxN + G], errs[kGroupMaxN + G];
  std::size_t tie_count = 0;
  for (std::size_t i = 0; i < n; i += G) {
    const std::size_t count = std::min(G, n - i);
    const VF x = count == G ? hn::LoadU(df, z + i) : LoadPartial(df, z + i, count);
    VF hi, lo;
    e.Term(df, x, hi, lo);
    if constexpr (kMask) e.Mask(x, hi, lo);
    if constexpr (kStore) {
      if (count == G) hn::StoreU(hi, df, hi_out + i), hn::StoreU(lo, df, lo_out + i);
      else StorePartial(df, hi, hi_out + i, count), StorePartial(df, lo, lo_out + i, count);
    }
    if constexpr (kSplit) {
      const auto at_max = hn::Eq(x, e.max);
      hi = hn::IfThenZeroElse(at_max, hi), lo = hn::IfThenZeroElse(at_max, lo);
      tie_count += hn::CountTrue(df, hn::And(at_max, hn::FirstN(df, count)));
    }
    VF s, r;
    FastTwoSum(hi, lo, s, r);
    hn::Store(s, df, sums + i), hn::Store(r, df, errs + i);
  }
  if (own) {
    *own = double(sums[label]) + double(errs[label]);
    sums[label] = 0, errs[label] = 0;
  }
  double even = 0, odd = 0;
  float even_err = 0, odd_err = 0;
  std::size_t i = 0;
  for (; i + 2 <= n; i += 2) {
    even += double(sums[i]), even_err += errs[i];
    odd += double(sums[i + 1]), odd_err += errs[i + 1];
  }
  if (i < n) even += double(sums[i]), even_err += errs[i];
  sum = (even + odd) + double(even_err + odd_err);
  ties = static_cast<float>(tie_count);
}

// L of each lane's row of a group, for the lower (l[0]) and upper (l[1]) half of the lanes.
template <bool kMask, class DF>
HWY_INLINE void GroupLogSum(DF df, float* cols, std::size_t n, hn::Vec<DF> max, hn::Vec<WideTag<DF>>* l) {
  const WideTag<DF> dd;
  const hn::Half<DF> dh;
  hn::Vec<WideTag<DF>> r_max[2], rest[2];
  const TermLanes<DF> e = GroupTermLanes(df, max, kScaleLogSum, r_max);
  const hn::Vec<WideTag<DF>> factor[2] = {RestFactor(dd, r_max[0]), RestFactor(dd, r_max[1])};
  hn::Vec<DF> ties;
  GroupTermSum<true, false, kMask>(df, e, cols, nullptr, n, rest, ties);
  l[0] = LogSumOfRest(dd, rest[0], hn::PromoteTo(dd, hn::LowerHalf(dh, ties)), factor[0]);
  l[1] = LogSumOfRest(dd, rest[1], hn::PromoteTo(dd, hn::UpperHalf(dh, ties)), factor[1]);
}

// L of one row z of n <= kGroupMaxN (max its max) with a group lane's arithmetic.
template <bool kMask>
HWY_INLINE double RowLogSumInOrder(const float* z, std::size_t n, float max) {
  const GroupTag df;
  const WideTag<GroupTag> dd;
  hn::Vec<WideTag<GroupTag>> r_max[2];
  const TermLanes<GroupTag> e = GroupTermLanes(df, hn::Set(df, max), kScaleLogSum, r_max);
  const auto factor = RestFactor(dd, r_max[0]);
  double rest = 0;
  float ties = 0;
  RowTermSumInOrder<true, false, kMask>(df, e, z, n, nullptr, nullptr, rest, ties);
  return hn::GetLane(LogSumOfRest(dd, hn::Set(dd, rest), hn::Set(dd, double(ties)), factor));
}

// group(r, cols, max, taken, std::true_type()) out of line: groups with -inf entries are the rarer
// kind, and with their copy of the group's code inline GCC compiled the common one into more
// instructions (callgrind: softmax groups of n = 32 and 64, +0.4 to +0.5 per element).
template <class Group, class V, class M>
HWY_NOINLINE void MaskedGroup(Group& group, std::size_t r, float* cols, V max, M taken) {
  group(r, cols, max, taken, std::true_type());
}

// Runs the rows [0, rows) of x (n <= kGroupMaxN) G at a time: group(r, cols, max, taken, mask) for
// rows [r, r + G) loaded as columns into cols (max: each row's), computing those in `taken` (see
// LoadGroup; mask: std::true_type where some of them has -inf entries); one(i) for each other row
// i, after its group, and for the rows beyond the last whole group. y: the output rows (n each)
// where the group writes them, else null.
// A group reads its rows a vector of each at a time, across G rows: no order the hardware's
// prefetchers follow once a row is a few cache lines long (out of cache, n = 128 took twice as long
// as row by row). So each group first asks for the next group's lines, in order.
template <class Group, class One>
HWY_INLINE void InGroups(const float* x, float* y, std::size_t rows, std::size_t n, double depth, Group&& group,
                         One&& one) {
  const GroupTag df;
  constexpr std::size_t G = hn::MaxLanes(df);
  constexpr std::size_t kLine = 64 / sizeof(float);
  HWY_ALIGN float cols[kGroupMaxN * G];
  std::size_t r = 0;
  for (; r + G <= rows; r += G) {
    const std::size_t next = (r + G) * n, end = std::min(rows, r + 2 * G) * n;
    for (std::size_t i = next; i < end; i += kLine) {
      hwy::Prefetch(x + i);
      if (y) hwy::Prefetch(y + i);
    }
    hn::Vec<GroupTag> max;
    bool neg_inf;
    const auto taken = LoadGroup(df, x + r * n, n, cols, max, depth, neg_inf);
    if (neg_inf) {
      MaskedGroup(group, r, cols, max, taken);
    } else if (!hn::AllFalse(df, taken)) {
      group(r, cols, max, taken, std::false_type());
    }
    if (hn::AllTrue(df, taken)) continue;
    const unsigned bits = LaneBits(df, taken);
    for (std::size_t i = 0; i < G; ++i) {
      if (!((bits >> i) & 1)) one(r + i);
    }
  }
  for (; r < rows; ++r) one(r);
}
#endif  // HWY_TARGET != HWY_SCALAR

// Runs each row r of x (rows × n): pass 1, then special(r, z) where the row is special (NaN, +inf,
// only -inf: special.hpp's business); else, for n <= kGroupMaxN (kGroupMaxRowOut where the group
// writes rows of outputs to y; y null where it writes none) where ShallowRow, lane
// arithmetic: group(r, cols, max, taken, mask) for whole groups (InGroups), in_order(r, z, row,
// mask) for a row alone, mask std::true_type where the row has -inf entries (generic lambdas for
// these two: the scalar target has neither); regular(r, z, row) for the others.
template <class Group, class InOrder, class Special, class Regular>
HWY_INLINE void EachRowOrGroup(const float* x, float* y, std::size_t rows, std::size_t n, double depth, Group&& group,
                               InOrder&& in_order, Special&& special, Regular&& regular) {
  const bool short_rows = n <= (y ? kGroupMaxRowOut : kGroupMaxN);
  const auto one = [&](std::size_t r) {
    const float* z = x + r * n;
    const RowInfo row = ScanRow(z, n);
    if (!row.regular) return special(r, z);
    if constexpr (kGroupMaxN > 0) {
      if (short_rows && ShallowRow(row, depth)) {
        return WithMask(row.neg_inf, [&](auto mask) { in_order(r, z, row, mask); });
      }
    }
    regular(r, z, row);
  };
  if constexpr (kGroupMaxN > 0) {
    if (short_rows) return InGroups(x, y, rows, n, depth, group, one);
  }
  (void)group, (void)y;
  for (std::size_t r = 0; r < rows; ++r) one(r);
}

// softmax of a regular row (row = ScanRow(z, n)): terms and their sum (kept in out and `lo` when
// given), then one rounding per output; depth = SoftmaxDepth(n).
void SoftmaxRegularRow(const float* z, float* out, std::size_t n, const RowInfo& row, float* lo, double depth) {
  const hn::ScalableTag<float> df;
  const TermLanes<hn::ScalableTag<float>> lanes(df, MakeTermRow(row.max, kFloorSoftmax, kScaleSoftmax));
  WithDepth(row, depth, [&](auto mask, auto wide) {
    constexpr bool kMask = decltype(mask)::value, kWide = decltype(wide)::value;
    const auto passes = [&](auto store) {  // the terms kept in out and lo for pass 3 (lo given), else recomputed
      constexpr bool kStore = decltype(store)::value;
      double sum = 0, unused = 0;
      TermSum<false, kStore, kMask>(df, lanes, z, 0, n, out, lo, sum, unused);
      TermNormalise<kStore, kMask, kWide>(df, lanes, z, lo, out, n, 1 / sum);
    };
    if (lo) passes(std::true_type());
    else passes(std::false_type());
  });
}

// Every row r of x (rows × n): pass 1, then special(r, z) where the row is special (NaN, +inf, only
// -inf: special.hpp's business), regular(r, z, row) otherwise.
template <class Special, class Regular>
HWY_INLINE void EachRow(const float* x, std::size_t rows, std::size_t n, Special&& special, Regular&& regular) {
  for (std::size_t r = 0; r < rows; ++r) {
    const float* z = x + r * n;
    const RowInfo row = ScanRow(z, n);
    if (row.regular) regular(r, z, row);
    else special(r, z);
  }
}

#if HWY_TARGET != HWY_SCALAR
// 1/S in f64 halves as inv_hi + inv_lo in f32 lanes, as TermNormalise forms them lane by lane.
template <class DF>
HWY_INLINE void SplitInverse(DF df, hn::Vec<WideTag<DF>> inv_lower, hn::Vec<WideTag<DF>> inv_upper, hn::Vec<DF>& inv_hi,
                             hn::Vec<DF>& inv_lo) {
  const WideTag<DF> dd;
  const hn::Half<DF> dh;
  inv_hi = hn::Combine(df, hn::DemoteTo(dh, inv_upper), hn::DemoteTo(dh, inv_lower));
  inv_lo = hn::Combine(df, hn::DemoteTo(dh, hn::Sub(inv_upper, hn::PromoteTo(dd, hn::UpperHalf(dh, inv_hi)))),
                       hn::DemoteTo(dh, hn::Sub(inv_lower, hn::PromoteTo(dd, hn::LowerHalf(dh, inv_hi)))));
}

// softmax of the rows of a group (InGroups, n <= kGroupMaxRowOut) in `taken`, to y:
// SoftmaxRegularRow's passes 2 and 3 in lanes, every term kept (hi in cols, lo in a column
// buffer). With labels (row i's at labels[i]), the gradient softmax(z) - onehot(label) instead:
// CrossEntropyGradRows's arithmetic per lane, the label's term apart. kMask: some row has -inf
// entries (their outputs come out exactly 0).
template <bool kMask, class DF>
HWY_INLINE void SoftmaxGroup(DF df, float* cols, std::size_t n, hn::Vec<DF> max, hn::Mask<DF> taken, float* y,
                             const std::int64_t* labels = nullptr) {
  constexpr std::size_t G = hn::MaxLanes(df);
  const WideTag<DF> dd;
  HWY_ALIGN float lo_cols[kGroupMaxRowOut * G], label_lanes[G];
  hn::Vec<WideTag<DF>> rest[2], own[2], inv[2];
  hn::Vec<DF> unused;
  const TermLanes<DF> e = GroupTermLanes(df, max, kScaleSoftmax);
  if (labels) {
    for (std::size_t i = 0; i < G; ++i) label_lanes[i] = static_cast<float>(labels[i]);
    const auto label = hn::Load(df, label_lanes);
    GroupTermSum<false, true, kMask>(df, e, cols, lo_cols, n, rest, unused, &label, own);
  } else {
    GroupTermSum<false, true, kMask>(df, e, cols, lo_cols, n, rest, unused);
  }
  const auto one = hn::Set(dd, 1.0);
  for (int h = 0; h < 2; ++h) inv[h] = hn::Div(one, labels ? hn::Add(rest[h], own[h]) : rest[h]);
  hn::Vec<DF> inv_hi, inv_lo;
  SplitInverse(df, inv[0], inv[1], inv_hi, inv_lo);
  for (std::size_t c = 0; c < n; ++c) {
    const auto hi = hn::Load(df, cols + c * G), lo = hn::Load(df, lo_cols + c * G);
    hn::Store(RoundedQuotient<false>(df, hi, lo, inv_hi, inv_lo, inv[0], inv[1]), df, cols + c * G);
  }
  StoreGroup(df, cols, n, y, taken);
  if (!labels) return;
  HWY_ALIGN double rests[G], invs[G];
  hn::Store(rest[0], dd, rests), hn::Store(rest[1], dd, rests + G / 2);
  hn::Store(inv[0], dd, invs), hn::Store(inv[1], dd, invs + G / 2);
  const unsigned bits = LaneBits(df, taken);
  for (std::size_t i = 0; i < G; ++i) {
    if ((bits >> i) & 1) y[i * n + static_cast<std::size_t>(labels[i])] = GradAtLabel(rests[i], invs[i]);
  }
}

// softmax of one row z of n <= kGroupMaxRowOut (max its max) to out, as one lane of
// SoftmaxGroup; with label, the gradient.
template <bool kMask>
HWY_INLINE void SoftmaxRowInOrder(const float* z, float* out, std::size_t n, float max,
                                  const std::size_t* label = nullptr) {
  const GroupTag df;
  const TermLanes<GroupTag> e = GroupTermLanes(df, hn::Set(df, max), kScaleSoftmax);
  HWY_ALIGN float lo[kGroupMaxRowOut];
  double rest = 0, own = 0;
  float unused = 0;
  if (label) RowTermSumInOrder<false, true, kMask>(df, e, z, n, out, lo, rest, unused, *label, &own);
  else RowTermSumInOrder<false, true, kMask>(df, e, z, n, out, lo, rest, unused);
  const double inv = 1 / (label ? rest + own : rest);
  TermNormalise<true, false, false>(df, e, z, lo, out, n, inv);
  if (label) out[*label] = GradAtLabel(rest, inv);
}

// Calls f(i, max_i, L_i) for each row i of a group in `taken` (log-sums).
template <bool kMask, class DF, class F>
HWY_INLINE void EachLogSumOfGroup(DF df, float* cols, std::size_t n, hn::Vec<DF> max, hn::Mask<DF> taken, F&& f) {
  constexpr std::size_t G = hn::MaxLanes(df);
  const WideTag<DF> dd;
  hn::Vec<WideTag<DF>> l[2];
  GroupLogSum<kMask>(df, cols, n, max, l);
  HWY_ALIGN double ls[G];
  HWY_ALIGN float maxes[G];
  hn::Store(l[0], dd, ls), hn::Store(l[1], dd, ls + G / 2), hn::Store(max, df, maxes);
  const unsigned bits = LaneBits(df, taken);
  for (std::size_t i = 0; i < G; ++i) {
    if ((bits >> i) & 1) f(i, maxes[i], ls[i]);
  }
}
#endif  // HWY_TARGET != HWY_SCALAR

// Every row r of x (rows × n) of a log-sum function (log_softmax, logsumexp, cross_entropy):
// special(r, z) where the row is special, else finish(r, max, L) with L = log Σ_j exp(z_j - max)
// from a group, a lone short row or pass 2 row by row. No group writes rows (see kGroupMaxN).
template <class Special, class Finish>
HWY_INLINE void EachLogSum(const float* x, std::size_t rows, std::size_t n, Special&& special, Finish&& finish) {
  EachRowOrGroup(
      x, nullptr, rows, n, -kFloorLogSum,
      [&](std::size_t r, float* cols, auto max, auto taken, auto mask) SOFTCERT_INLINE_LAMBDA {
        EachLogSumOfGroup<decltype(mask)::value>(
            GroupTag(), cols, n, max, taken,
            [&](std::size_t i, float m, double l) SOFTCERT_INLINE_LAMBDA { finish(r + i, m, l); });
      },
      [&](std::size_t r, const float* z, const auto& row, auto mask) {
        finish(r, row.max, RowLogSumInOrder<decltype(mask)::value>(z, n, row.max));
      },
      special, [&](std::size_t r, const float* z, const RowInfo& row) { finish(r, row.max, LogSum(z, n, row)); });
}

// softmax of the rows of x to y (rows × n; y may be x), special(r, z) for the special ones.
template <class Special>
HWY_INLINE void SoftmaxEachRow(const float* x, float* y, std::size_t rows, std::size_t n, float* lo,
                               Special&& special) {
  const double depth = SoftmaxDepth(n);
  EachRowOrGroup(
      x, y, rows, n, depth,
      [&](std::size_t r, float* cols, auto max, auto taken, auto mask) {
        SoftmaxGroup<decltype(mask)::value>(GroupTag(), cols, n, max, taken, y + r * n);
      },
      [&](std::size_t r, const float* z, const auto& row, auto mask) {
        SoftmaxRowInOrder<decltype(mask)::value>(z, y + r * n, n, row.max);
      },
      special,
      [&](std::size_t r, const float* z, const RowInfo& row) { SoftmaxRegularRow(z, y + r * n, n, row, lo, depth); });
}

void SoftmaxRows(const float* x, float* y, std::size_t rows, std::size_t n, float* lo) {
  SoftmaxEachRow(x, y, rows, n, lo,
                 [&](std::size_t r, const float* z) { softmax_special(scan_row(z, n), z, y + r * n, n); });
}

void LogSoftmaxRows(const float* x, float* y, std::size_t rows, std::size_t n) {
  const hn::ScalableTag<double> d;
  const hn::CappedTag<double, 1> d1;
  const std::size_t body = n - n % hn::Lanes(d);
  // Each row written from its L, a group's rows one at a time too (see kGroupMaxN).
  EachLogSum(
      x, rows, n, [&](std::size_t r, const float* z) { log_softmax_special(scan_row(z, n), z, y + r * n, n); },
      [&](std::size_t r, double max, double l) {
        Shifted(d, x + r * n, y + r * n, 0, body, max, l);
        Shifted(d1, x + r * n, y + r * n, body, n, max, l);
      });
}

// softmax((z - max) / t): softmax's passes with the shift scaled by 1/t; the mask is needed where
// (min - max) / t falls below kFloor.
void SoftmaxTemperatureRows(const float* x, float* y, std::size_t rows, std::size_t n, double t, double* scratch) {
  const double scale = 1 / t;
  EachRow(
      x, rows, n, [&](std::size_t r, const float* z) { softmax_special(scan_row(z, n), z, y + r * n, n); },
      [&](std::size_t r, const float* z, const RowInfo& row) {
        float* out = y + r * n;
        WithMask(row.neg_inf || !(row.low_shift * scale >= kFloor), [&](auto mask) {
          constexpr bool kMask = decltype(mask)::value;
          double sum = 0;
          if (scratch) RowSum<true, kMask>(z, 0, n, row.max, scratch, sum, scale);
          else RowSum<false, kMask>(z, 0, n, row.max, nullptr, sum, scale);
          RowNormalise<kMask>(z, scratch, out, n, row.max, 1 / sum, scale);
        });
      });
}

// y_i = x_i where keep_i, else -inf, for i < count.
HWY_INLINE void MaskInto(const float* x, const std::uint8_t* keep, float* y, std::size_t count) {
  const hn::ScalableTag<float> df;
  const hn::RebindToUnsigned<decltype(df)> du;
  const hn::Rebind<std::uint8_t, decltype(df)> d8;
  const std::size_t lanes = hn::Lanes(df);
  const auto neg_inf = hn::Set(df, -std::numeric_limits<float>::infinity());
  std::size_t i = 0;
  for (; i + lanes <= count; i += lanes) {
    const auto kept = hn::RebindMask(df, hn::Ne(hn::PromoteTo(du, hn::LoadU(d8, keep + i)), hn::Zero(du)));
    hn::StoreU(hn::IfThenElse(kept, hn::LoadU(df, x + i), neg_inf), df, y + i);
  }
  for (; i < count; ++i) y[i] = keep[i] ? x[i] : -std::numeric_limits<float>::infinity();
}

// [begin, end): from keep's first nonzero byte to its last (begin = end where there is none).
HWY_INLINE void KeptSpan(const std::uint8_t* keep, std::size_t n, std::size_t& begin, std::size_t& end) {
  const hn::ScalableTag<std::uint8_t> d8;
  const std::size_t lanes = hn::Lanes(d8);
  const auto none = [&](std::size_t i) { return hn::AllFalse(d8, hn::Ne(hn::LoadU(d8, keep + i), hn::Zero(d8))); };
  begin = 0;
  while (begin + lanes <= n && none(begin)) begin += lanes;
  while (begin < n && !keep[begin]) ++begin;
  end = n;
  while (end >= begin + lanes && none(end - lanes)) end -= lanes;
  while (end > begin && !keep[end - 1]) --end;
}

// Masked softmax: a row with its masked-out entries -inf, written into y, is an ordinary softmax
// row there (softmax in place: every pass reads what it overwrites first), whose -inf entries come
// out exactly +0. A row that is special after the masking (a kept NaN or +inf, or nothing kept)
// goes to special.hpp with the keep mask and the original row (x may be y: its kept entries are
// still there), so that masked positions are +0 there too.
// Short rows (n <= kGroupMaxRowOut) are masked into y a block at a time and go through softmax's
// groups. A longer row is only its span from the first kept entry to the last, the rest +0: a
// causal or padding mask keeps a prefix, whose masked rest then costs no terms.
void MaskedSoftmaxRows(const float* x, const std::uint8_t* keep, float* y, std::size_t rows, std::size_t n,
                       float* lo) {
  const auto special = [&](std::size_t r) {
    const std::size_t at = r * n;
    softmax_special(scan_row(x + at, n, keep + at), x + at, y + at, n, keep + at);
  };
  if (n <= kGroupMaxRowOut) {
    // About 16 KiB of rows, still in L1 when softmax reads them back; whole groups of 8 rows.
    constexpr std::size_t kBlockElements = 4096;
    std::size_t block = std::max<std::size_t>(1, kBlockElements / n);
    if (block >= 8) block -= block % 8;
    for (std::size_t r0 = 0; r0 < rows; r0 += block) {
      const std::size_t count = std::min(block, rows - r0);
      float* out = y + r0 * n;
      MaskInto(x + r0 * n, keep + r0 * n, out, count * n);
      SoftmaxEachRow(out, out, count, n, lo, [&](std::size_t r, const float*) { special(r0 + r); });
    }
    return;
  }
  for (std::size_t r = 0; r < rows; ++r) {
    std::size_t begin, end;
    KeptSpan(keep + r * n, n, begin, end);
    float* out = y + r * n;
    if (begin == end) {
      special(r);  // nothing kept
      continue;
    }
    MaskInto(x + r * n + begin, keep + r * n + begin, out + begin, end - begin);
    SoftmaxEachRow(out + begin, out + begin, 1, end - begin, lo, [&](std::size_t, const float*) { special(r); });
    std::fill(out, out + begin, 0.0f);
    std::fill(out + end, out + n, 0.0f);
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
  const double lanes = static_cast<double>(hn::Lanes(hn::ScalableTag<float>()));
  // The relative error bound on L (pass 2 in f32 lanes, see above; a group's sum is within it too).
  const double eps = 0x1.6a09e667f3bcdp-27 + (static_cast<double>(kBlock) + static_cast<double>(n) / (kBlock * lanes)) * 0x1p-53;
  const auto finish = [&](std::size_t r, double m, double l) {
    // L's error eps · L is below 1/4 ULP of max + L unless they cancel (max < 0).
    if (m < 0 && eps * l > 0x1p-26 * std::fabs(m + l)) l = LogSumAccurate(x + r * n, n, m);
    out[r] = dd::round_to_float(dd::two_sum(m, l));  // one rounding of max + L
  };
  EachLogSum(x, rows, n, [&](std::size_t r, const float* z) { out[r] = logsumexp_special(scan_row(z, n)); }, finish);
}

// Cross-entropy (max - z_y) + L: two non-negative numbers (max - z_y exact), rounded once.
void CrossEntropyRows(const float* x, const std::int64_t* labels, float* loss, std::size_t rows, std::size_t n) {
  const auto finish = [&](std::size_t r, double m, double l) {
    loss[r] = dd::round_to_float(dd::two_sum(m - double(x[r * n + static_cast<std::size_t>(labels[r])]), l));
  };
  EachLogSum(
      x, rows, n,
      [&](std::size_t r, const float* z) {
        loss[r] = cross_entropy_special(scan_row(z, n), z, static_cast<std::size_t>(labels[r]));
      },
      finish);
}

// The gradient softmax(z) - onehot(y), from the same pass 2 as softmax but with the label's term
// summed apart: g_y = -(Σ_{j != y} e_j) / S keeps its bits where p_y ≈ 1 (p_y - 1 would cancel).
void CrossEntropyGradRows(const float* x, const std::int64_t* labels, float* g, std::size_t rows, std::size_t n,
                          float* lo) {
  const hn::ScalableTag<float> df;
  const double depth = SoftmaxDepth(n);
  const auto label_of = [&](std::size_t r) { return static_cast<std::size_t>(labels[r]); };
  EachRowOrGroup(
      x, g, rows, n, depth,
      [&](std::size_t r, float* cols, auto max, auto taken, auto mask) {
        SoftmaxGroup<decltype(mask)::value>(GroupTag(), cols, n, max, taken, g + r * n, labels + r);
      },
      [&](std::size_t r, const float* z, const auto& row, auto mask) {
        const std::size_t label = label_of(r);
        SoftmaxRowInOrder<decltype(mask)::value>(z, g + r * n, n, row.max, &label);
      },
      [&](std::size_t r, const float* z) { cross_entropy_grad_special(scan_row(z, n), z, label_of(r), g + r * n, n); },
      [&](std::size_t r, const float* z, const RowInfo& row) {
        float* out = g + r * n;
        const std::size_t label = label_of(r);
        // kStore: the terms kept in out and lo for pass 3 (lo given), else recomputed there.
        const auto passes = [&](auto mask, auto wide, auto store) {
          constexpr bool kMask = decltype(mask)::value, kWide = decltype(wide)::value;
          constexpr bool kStore = decltype(store)::value;
          // A deep row keeps log-sums' floor, not softmax's: the label's entry at the max sums the
          // terms below e^-104 that softmax drops (each rounds to 0 alone, n of them need not).
          // Its quotient is in f64 (kWide), so the larger scale costs nothing there.
          const TermLanes<hn::ScalableTag<float>> lanes(
              df, kWide ? MakeTermRow(row.max, kFloorLogSum, kScaleLogSum)
                        : MakeTermRow(row.max, kFloorSoftmax, kScaleSoftmax));
          double rest = 0, own = 0, unused = 0;
          TermSum<false, kStore, kMask>(df, lanes, z, 0, label, out, lo, rest, unused);
          TermSum<false, kStore, kMask>(df, lanes, z, label, label + 1, out, lo, own, unused);
          TermSum<false, kStore, kMask>(df, lanes, z, label + 1, n, out, lo, rest, unused);
          const double inv = 1 / (rest + own);
          TermNormalise<kStore, kMask, kWide>(df, lanes, z, lo, out, n, inv);
          out[label] = GradAtLabel(rest, inv);
        };
        WithDepth(row, depth, [&](auto mask, auto wide) {
          if (lo) passes(mask, wide, std::true_type());
          else passes(mask, wide, std::false_type());
        });
      });
}

// σ(x) = 1 / (1 + e) for x >= 0 and e / (1 + e) below, e = exp(-|x|) in f64: no cancellation, so
// within 2ε + 2^-52 relative before the one rounding. σ(+inf) = 1 and σ(-inf) = +0 (e masked to
// 0), σ(±0) = 1/2.
template <class D>
HWY_INLINE void SigmoidLanes(D d, const float* x, float* y) {
  const hn::Rebind<float, D> df;
  const auto v = hn::PromoteTo(d, hn::LoadU(df, x));
  const auto a = hn::Neg(hn::Abs(v));
  const auto e = hn::IfThenZeroElse(hn::Lt(a, hn::Set(d, kFloor)), ExpNonPositive(d, a));
  const auto one = hn::Set(d, 1.0);
  const auto num = hn::IfThenElse(hn::Lt(v, hn::Zero(d)), e, one);
  // A NaN comes back as it came (-|x| would flip its sign).
  StoreRounded(d, hn::IfThenElse(hn::IsNaN(v), v, hn::Div(num, hn::Add(one, e))), y);
}

void SigmoidN(const float* x, float* y, std::size_t count) {
  const hn::ScalableTag<double> d;
  const hn::CappedTag<double, 1> d1;
  const std::size_t body = count - count % hn::Lanes(d);
  SOFTCERT_UNROLL2
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

int softmax_f32(const float* x, float* y, size_t rows, size_t n) {
  if (int e = check_rows<float>(x, y, rows, n)) return e;
  HWY_DYNAMIC_DISPATCH(SoftmaxRows)(x, y, rows, n, scratch<float>(n));
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
  HWY_DYNAMIC_DISPATCH(SoftmaxTemperatureRows)(x, y, rows, n, t, scratch<double>(n));
  return SOFTCERT_OK;
}

int masked_softmax_f32(const float* x, const uint8_t* keep, float* y, size_t rows, size_t n) {
  if (keep == nullptr) return SOFTCERT_ERR_NULL;
  if (int e = check_rows<float>(x, y, rows, n)) return e;
  HWY_DYNAMIC_DISPATCH(MaskedSoftmaxRows)(x, keep, y, rows, n, scratch<float>(n));
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
  HWY_DYNAMIC_DISPATCH(CrossEntropyGradRows)(z, labels, grad, rows, n, scratch<float>(n));
  return SOFTCERT_OK;
}

// f16/bf16 (bit patterns) through the f32 kernels above (kernels.hpp's through_format). The f32
// result is within 0.75 ULP of f32, so the format's result is within 0.5 + 0.75 · 2^-13 of its ULP
// (binary16; 2^-16 for bfloat16): correctly rounded but where the exact value lies that close to
// a rounding midpoint.
template <const FloatFormat& F, int (*Kernel)(const float*, float*, size_t, size_t)>
int reduced(const uint16_t* x, uint16_t* y, size_t rows, size_t n) {
  return through_format<float, F>(Kernel, x, y, rows, n);
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

// accurate's kernels, with the f32 ones above, simd_backward.cc's and simd_f64.cc's in place of accurate's.
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
  impl.f32.softmax_backward = &simd_softmax_backward_f32;
  impl.f64.softmax_backward = &simd_softmax_backward_f64;
  impl.f64.softmax = &simd_softmax_f64;
  impl.f64.log_softmax = &simd_log_softmax_f64;
  impl.f64.logsumexp = &simd_logsumexp_f64;
  impl.f64.cross_entropy = &simd_cross_entropy_f64;
  impl.f64.cross_entropy_grad = &simd_cross_entropy_grad_f64;
  impl.f64.masked_softmax = &simd_masked_softmax_f64;
  impl.f64.softmax_temperature = &simd_softmax_temperature_f64;
  impl.f64.sigmoid = &simd_sigmoid_f64;
  return impl;
}

}  // namespace softcert::lib
#endif  // HWY_ONCE

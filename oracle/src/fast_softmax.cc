// The fast path of the float32 softmax family and of float64 σ (fast_oracle.hpp): double-double
// arithmetic with a rigorous bound B on |A - exact| for every output A, the float decided when no
// rounding boundary lies in [A - B, A + B], the MPFR oracle asked otherwise.
//
// Notation: u = 2^-53 (double's unit roundoff); a double-word (DD) x = x.hi + x.lo with
// |x.lo| <= ulp(x.hi)/2. The building blocks and their relative error bounds are those proved in
// Joldes, Muller, Popescu, "Tight and rigorous error bounds for basic building blocks of
// double-word arithmetic", ACM TOMS 44(2), 2017 ("JMP"), valid with round-to-nearest, a correct
// fma and no underflow; underflow is accounted for separately, as absolute terms of at most a few
// 2^-1074 per operation (every bound below carries a generous absolute allowance for it). This
// file is compiled with -ffp-contract=off (oracle/CMakeLists.txt): the compiler must fuse nothing
// by itself, or the error-free transformations stop being error-free. A thread whose floating
// point environment is not the IEEE default (rounding to nearest, subnormals neither flushed nor
// treated as zero, as a kernel under test might leave it) is sent to MPFR.
//
// ---- exp (exp_dd) ---------------------------------------------------------------------------
// x = x.hi + x.lo, x.hi <= 1. Below x.hi < -745.5 the result is 0 and e^x < 2^-1075.5.
//  1. k = nearest integer to x.hi·256/ln2 (|k| < 2^18.1), k = 256 m + j, 0 <= j < 256.
//     r = x - k·C, C = ln2/256 = c1 + c2 + c3 + η with c1 of 33 bits (k·c1 exact), c2, c3
//     doubles, |η| <= 2^-148 (all from MPFR at 320 bits). r is formed with one TwoSum, TwoProd
//     (exact) and three DD additions: |r̂ - r| <= 3 · 2^-104.4 · 2^-9.4 + |k|·|η| + u·|k c3| <= 2^-111.
//     (k = RN-to-integer of RN(x.hi·RN(1/C)): |x.hi/C - k| <= 1/2 + 2^-33.9 for |x.hi| <= 745.5.)
//     |r| <= C(1/2 + 2^-33) + |x.lo| (<= 2^-43) < ρ = 2^-9.5.
//  2. e^r = P8(r) + trunc, P8 the degree-8 Taylor polynomial, |trunc| <= ρ^9/9!·e^ρ < 2^-103.9.
//     P8(r) = 1 + r(1 + r(1/2 + r·Q(r))), Q(r) = 1/3! + r/4! + ... + r^5/8!.
//     q̂ = Q(r.hi) in double (Horner, coefficients RN(1/i!)): |q̂ - Q(r.hi)| <= 4u·Q <= 2^-53.58
//       (the exact bound is about 2u: every step adds < 2^-12 of its own size);
//       |Q(r) - Q(r.hi)| <= |Q'|·|r.lo| <= 2^-4.57 · 2^-62.5 <= 2^-67.
//     v̂ = FastTwoSum(1/2, RN(r.hi·q̂)) (exact sum): |v̂ - (1/2 + rQ(r))| <= u·2^-12.1 (rounding)
//       + ρ(2^-53.58 + 2^-67) + |r.lo|·Q <= 2^-62.4.
//     ŵ = DWPlusFP(DWTimesDW(r, v̂), 1): |ŵ - w| <= ρ·2^-62.4 + 5u²·2^-10.5 + 2u²·1.001 <= 2^-71.89.
//     Ê = DWPlusFP(DWTimesDW(r, ŵ), 1): |Ê - P8(r)| <= ρ·2^-71.89 + 5u² + 2u²·1.002 <= 2^-81.38.
//     With trunc and r̂'s error: |Ê - e^r| <= 2^-81.37, relative (e^r >= 0.9986) <= 2^-81.36.
//  3. × 2^(j/256) (a DD within 2^-106 relative, from MPFR) by DWTimesDW (5u²): relative
//     error <= 2^-81.35; × 2^m is exact while the result stays normal, else one rounding of the
//     high part and the low part dropped: absolute error <= 2^-1074.
//  So |ê - e^x| <= kExpRel·e^x + 2^-1074, kExpRel = 2^-80 (2.5 times the derived bound).
//
// ---- the row --------------------------------------------------------------------------------
// m = max z (float), d_i = z_i - m exactly as a DD (TwoSum of two floats is exact),
// e_i = exp(d_i) (e = 1 exactly at every maximal entry), R = Σ_{j != argmax} e_j >= 0 (-inf
// entries contribute exactly 0 and are not evaluated), S = 1 + R, L = log S = log1p(R).
//  R̂: sequential AccurateDWPlusDW (3u²/(1-4u) <= 2^-104.41 each) of nonnegative terms:
//     |R̂ - R| <= ε_R R + α_R, ε_R = kExpRel + n·2^-104, α_R = n·2^-1070.
//  softmax: Ŝ = DWPlusFP(R̂, 1) (relative ε_R + 2^-104 + α_R, as S >= 1), 1/Ŝ by DWDivDW2
//     (15u² + 56u³ <= 2^-102), p̂_i = DWTimesDW(ê_i, 1/Ŝ) (5u²). First order (the products of
//     error terms are below 2^-150): |p̂ - p| <= p(kExpRel + ε_S + 2^-102 + 2^-103.6) + 2^-1074/S,
//     taken as B = |p̂|·(2·kExpRel + (n + 2)·2^-104 + 2^-100 + n·2^-1070)·1.001 + 2^-1068 (the
//     absolute term also covers the underflow of the DD operations' low parts below 2^-1000).
//  log1p(R̂), two ways:
//   - R̂ < 2^-9: the series R - R²/2 + ... + R^9/9 (remainder <= R^10/10 <= 2^-84.3 R), as
//     R(1 - R(1/2 - R·g(R))) with g = 1/3 - R/4 + ... + R^6/9 in double at R.hi
//     (|ĝ - g| <= 4u·g + |g'||R.lo|), the two outer levels in DD: |1/2 - Rg - ĥ| <= 2^-60.9,
//     |1 - Rh - ŵ| <= 2^-9·2^-60.9 + 2^-104.9 <= 2^-69.85, L̂ = DWTimesDW(R̂, ŵ): relative
//     error <= 2^-69.8 with the truncation; taken as 2^-69 |L̂| + 2^-1070.
//   - R̂ >= 2^-9: one Newton step from any double y0 (libm's log1p, not trusted):
//     t = (1 + R̂)e^-y0 - 1 = e^(log1p(R̂) - y0) - 1 and y0 + t - log1p(R̂) = t - log1p(t), in
//     [0, t²] for |t| <= 1/2. t̂ = DWPlusFP(DWTimesDW(DWPlusFP(R̂, 1), ê(-y0)), -1):
//     |t̂ - t| <= (1 + |t̂|)·2^-79.8 (kExpRel + 2^-105 + 5u² on a value 1 + t; the subtraction
//     of 1 is exact up to 2^-104.9|t|). L̂ = DWPlusFP(t̂, y0):
//     |L̂ - log1p(R̂)| <= (1 + |t̂|)·2^-79 + (|t̂| + 2^-78)² + 2^-103 |L̂| (|t̂| > 2^-20: MPFR).
//  Then |log1p(R̂) - L| <= |R̂ - R| / (1 + min(R, R̂)) <= ε_R·1.02·L + α_R (log1p(R) >= R/(1+R)),
//  so |L̂ - L| <= B_L = (log1p's bound) + 1.02 ε_R |L̂| + α_R + 2^-1060.
//  log_softmax: ŷ_i = AccurateDWPlusDW(d_i, -L̂), d_i and -L̂ of one sign (<= 0): B = B_L +
//     2^-104·1.01|ŷ|. logsumexp: Â = DWPlusFP(L̂, m), B = B_L + 2^-104·1.01|Â|.
//
// ---- the rounding test (round_to_float, round_to_double) ----------------------------------
// The candidate f is A rounded (through round-to-odd); the exact value v (|v - A| <= B) rounds to f when it lies
// strictly between the midpoints around f: (A.hi - below) + A.lo > B and (above - A.hi) - A.lo > B,
// computed with at most two roundings each (relative u), so the test asks for B·(1 + 2^-50).
// Below the smallest subnormal the candidate is a zero of the exact value's sign, decided when
// |A| + B < 2^-150 and the sign is known from the mathematics (float). For double, subnormal
// results go to MPFR, and σ(x) for x < -745.5 (below e^x < 2^-1075.5) is +0 directly. The exact
// results that may sit ON a boundary are all caught before this test: softmax of a row whose
// finite entries are all equal is 1/k (exact when k is a power of two, never a midpoint otherwise,
// both decided here with a tiny B); every other output is transcendental (Lindemann–Weierstrass),
// never a float or a midpoint, so `exact` is false for it. A log_softmax d_i that is itself a
// midpoint (z_i - m can need 25 bits) with L below B leaves the midpoint inside [A - B, A + B]:
// undecided by the test; then, as in the MPFR oracle (exact.cc plus_log1p), since L > 0 and no
// boundary lies within ulp/2 above |d|, y rounds to the float of larger magnitude beside |d|
// (midpoint_minus_tiny). Overflow (log_softmax of a row spanning the float range): |A| - B above
// 2^128 - 2^103 is ±inf.
//
// hi + lo: A itself. An answer is given only when B <= 2^-60 |A| + 2^-1001, so hi + lo is within
// 2^-59 |v| + 2^-1000 of the MPFR oracle's (itself within 2^-100 |v| of v, or the double rounding
// of v below 2^-1022).
#include <mpfr.h>

#include <bit>
#include <cfenv>
#include <cmath>
#include <cstdint>
#include <limits>

#include "softcert/fast_oracle.hpp"

namespace softcert::oracle::fast_oracle {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kExpRel = 0x1p-80;

// ---- double-word arithmetic (JMP) ----
struct DD {
  double hi;
  double lo;
};

inline DD two_sum(double a, double b) {  // a + b = s + e exactly
  const double s = a + b;
  const double bb = s - a;
  return {s, (a - (s - bb)) + (b - bb)};
}
inline DD fast_two_sum(double a, double b) {  // exact for |a| >= |b| (or a = 0)
  const double s = a + b;
  return {s, b - (s - a)};
}
inline DD two_prod(double a, double b) {  // exact barring underflow
  const double p = a * b;
  return {p, std::fma(a, b, -p)};
}
inline DD neg(DD x) { return {-x.hi, -x.lo}; }
// JMP Algorithm 4 (DWPlusFP): relative error <= 2u²/(1 - 2u).
inline DD add(DD x, double y) {
  const DD s = two_sum(x.hi, y);
  return fast_two_sum(s.hi, x.lo + s.lo);
}
// JMP Algorithm 6 (AccurateDWPlusDW): <= 3u²/(1 - 4u).
inline DD add(DD x, DD y) {
  const DD s = two_sum(x.hi, y.hi);
  const DD t = two_sum(x.lo, y.lo);
  const DD v = fast_two_sum(s.hi, s.lo + t.hi);
  return fast_two_sum(v.hi, t.lo + v.lo);
}
// JMP Algorithm 9 (DWTimesFP3): <= 2u².
inline DD mul(DD x, double y) {
  const DD c = two_prod(x.hi, y);
  return fast_two_sum(c.hi, std::fma(x.lo, y, c.lo));
}
// JMP Algorithm 12 (DWTimesDW3): <= 5u².
inline DD mul(DD x, DD y) {
  const DD c = two_prod(x.hi, y.hi);
  const double tl0 = x.lo * y.lo;
  const double tl1 = std::fma(x.hi, y.lo, tl0);
  const double cl2 = std::fma(x.lo, y.hi, tl1);
  return fast_two_sum(c.hi, c.lo + cl2);
}
// JMP Algorithm 17 (DWDivDW2): <= 15u² + 56u³.
inline DD div(DD x, DD y) {
  const double th = x.hi / y.hi;
  const DD r = mul(y, th);
  const double pih = x.hi - r.hi;
  const double dl = x.lo - r.lo;
  return fast_two_sum(th, (pih + dl) / y.hi);
}

// 2^m for -1022 <= m <= 1023.
inline double pow2i(int m) { return std::bit_cast<double>(static_cast<std::uint64_t>(m + 1023) << 52); }

// ---- constants, from MPFR once ----
struct Constants {
  double inv_c;  // RN(256 / ln 2): only picks k
  double c1, c2, c3;
  double q[6];  // RN(1/i!), i = 3..8
  double g[7];  // RN((-1)^(i+1) / i), i = 3..9 (log1p series)
  DD pow2[256];
};

double get_d(mpfr_srcptr x) { return mpfr_get_d(x, MPFR_RNDN); }

Constants make_constants() {
  Constants c{};
  mpfr_t a, b, t33;
  mpfr_inits2(320, a, b, static_cast<mpfr_ptr>(nullptr));
  mpfr_init2(t33, 33);
  mpfr_const_log2(a, MPFR_RNDN);
  mpfr_div_2ui(a, a, 8, MPFR_RNDN);  // C = ln2/256 (exact scaling)
  mpfr_ui_div(b, 1, a, MPFR_RNDN);
  c.inv_c = get_d(b);
  mpfr_set(t33, a, MPFR_RNDN);
  c.c1 = get_d(t33);  // exact: 33 bits
  mpfr_sub_d(a, a, c.c1, MPFR_RNDN);
  c.c2 = get_d(a);
  mpfr_sub_d(a, a, c.c2, MPFR_RNDN);
  c.c3 = get_d(a);
  for (int i = 3; i <= 8; ++i) {
    mpfr_fac_ui(b, static_cast<unsigned long>(i), MPFR_RNDN);
    mpfr_ui_div(b, 1, b, MPFR_RNDN);
    c.q[i - 3] = get_d(b);
  }
  for (int i = 3; i <= 9; ++i) c.g[i - 3] = (i % 2 == 1 ? 1.0 : -1.0) / i;  // RN of ±1/i: one division
  for (int j = 0; j < 256; ++j) {
    mpfr_set_ui(a, static_cast<unsigned long>(j), MPFR_RNDN);
    mpfr_div_2ui(a, a, 8, MPFR_RNDN);
    mpfr_exp2(b, a, MPFR_RNDN);
    c.pow2[j].hi = get_d(b);
    mpfr_sub_d(b, b, c.pow2[j].hi, MPFR_RNDN);
    c.pow2[j].lo = get_d(b);
  }
  mpfr_clears(a, b, t33, static_cast<mpfr_ptr>(nullptr));
  mpfr_free_cache2(MPFR_FREE_LOCAL_CACHE);
  return c;
}

const Constants& constants() {
  static const Constants c = make_constants();
  return c;
}

// exp(x) for x.hi <= 1: |result - e^x| <= kExpRel e^x + 2^-1074 (the header's derivation).
inline DD exp_dd(const Constants& c, DD x) {
  if (x.hi < -745.5) return {0.0, 0.0};
  const double kd = (x.hi * c.inv_c + 0x1.8p52) - 0x1.8p52;  // nearest integer, |kd| < 2^19
  const auto k = static_cast<std::int64_t>(kd);
  const int j = static_cast<int>(k & 255);
  const int m = static_cast<int>((k - j) / 256);
  DD r = two_sum(x.hi, -(kd * c.c1));  // kd·c1 exact
  r = add(r, x.lo);
  r = add(r, neg(two_prod(kd, c.c2)));
  r = add(r, -(kd * c.c3));
  const double rh = r.hi;
  double q = c.q[5];
  for (int i = 4; i >= 0; --i) q = q * rh + c.q[i];
  const DD v = fast_two_sum(0.5, rh * q);
  const DD w = add(mul(r, v), 1.0);
  const DD e = mul(add(mul(r, w), 1.0), c.pow2[j]);
  if (m >= -1021) {
    const double s = pow2i(m);
    return {e.hi * s, e.lo * s};
  }
  return {(e.hi * pow2i(m + 200)) * pow2i(-200), 0.0};  // one rounding into the subnormals
}

// The IEEE default environment this file's bounds assume.
bool default_environment() {
  if (std::fegetround() != FE_TONEAREST) return false;
  volatile float tiny = 0x1p-149f;
  volatile float normal = 0x1p-126f;
  const float a = tiny * 1.0f;   // 0 under DAZ
  const float b = normal * 0.5f;  // 0 under FTZ
  return a != 0 && b != 0;
}

// ---- rounding tests ----
// `sign`: the exact value's sign when the mathematics knows it (+1, -1), 0 otherwise.
std::optional<float> round_to_float(DD A, double B, int sign) {
  if (!(B <= 0x1p-60 * std::fabs(A.hi) + 0x1p-1001)) return std::nullopt;
  const bool negative = A.hi < 0 || (A.hi == 0 && sign < 0);
  const double a = negative ? -A.hi : A.hi;
  const double al = negative ? -A.lo : A.lo;
  const double b = B * (1 + 0x1p-50);
  // The candidate: A rounded to float through round-to-odd at 53 bits (a.hi sitting exactly on a
  // float midpoint, a d_i = z_i - m with L below its last bit, goes the way a.lo says).
  double h = a;
  if (al != 0 && (std::bit_cast<std::uint64_t>(h) & 1) == 0) h = std::nextafter(h, al > 0 ? kInf : 0.0);
  const float f = static_cast<float>(h);
  if (f == 0) {
    if (sign == 0 || (negative ? -1 : 1) != sign) return std::nullopt;
    if (!((a + std::fabs(al) + b) * (1 + 0x1p-50) < 0x1p-150)) return std::nullopt;
    return negative ? -0.0f : 0.0f;
  }
  if (std::isinf(f)) {
    // Overflow: |v| above FLT_MAX + ulp/2 = 2^128 - 2^103 (that tie itself goes to inf) is ±inf.
    if (!((a - std::fabs(al)) - b > 0x1p128 - 0x1p103)) return std::nullopt;
    return negative ? -INFINITY : INFINITY;
  }
  const double below = (static_cast<double>(f) + static_cast<double>(std::nextafter(f, 0.0f))) * 0.5;
  const double next = f == std::numeric_limits<float>::max() ? 0x1p128 : static_cast<double>(std::nextafter(f, INFINITY));
  const double above = (static_cast<double>(f) + next) * 0.5;  // FLT_MAX: the overflow threshold
  if (!((a - below) + al > b) || !((above - a) - al > b)) return std::nullopt;
  return negative ? -f : f;
}

std::optional<double> round_to_double(DD A, double B, int sign) {
  if (!(B <= 0x1p-60 * std::fabs(A.hi) + 0x1p-1001)) return std::nullopt;
  const bool negative = A.hi < 0 || (A.hi == 0 && sign < 0);
  const double a = negative ? -A.hi : A.hi;
  const double al = negative ? -A.lo : A.lo;
  const double b = B * (1 + 0x1p-50);
  if (a < 0x1p-1021) return std::nullopt;  // subnormal results: the bound's 2^-1073 is too wide
  (void)sign;
  if (!(a < std::numeric_limits<double>::max())) return std::nullopt;
  const double up = std::nextafter(a, kInf) - a;    // exact
  const double down = a - std::nextafter(a, 0.0);   // exact
  if (!(0.5 * up - al > b) || !(0.5 * down + al > b)) return std::nullopt;
  return negative ? -a : a;
}

// y = d - L for a d < 0 that is exactly a float midpoint (z_i - m can need 25 bits) and
// 0 < L <= l_max far below the midpoint spacing: |y| is just above the midpoint |d|, so y rounds
// to the float of larger magnitude next to it, whatever L is (the MPFR oracle's rule, exact.cc
// plus_log1p). No rounding boundary lies in (|d|, |d| + ulp/2).
std::optional<float> midpoint_minus_tiny(DD d, double l_max) {
  if (!(d.hi < 0) || d.lo != 0) return std::nullopt;
  const double m = -d.hi;
  const float f = static_cast<float>(m);  // one of the two neighbours (ties to even)
  if (std::isinf(f) || static_cast<double>(f) == m) return std::nullopt;
  const float up = static_cast<double>(f) > m ? f : std::nextafter(f, INFINITY);
  const float down = std::nextafter(up, 0.0f);
  if ((static_cast<double>(up) + static_cast<double>(down)) * 0.5 != m) return std::nullopt;  // not a midpoint
  if (std::isinf(up) || !(l_max * (1 + 0x1p-50) < (static_cast<double>(up) - m) * 0.5)) return std::nullopt;
  return -up;
}

// ---- rows ----
struct Row {
  bool special = false;  // NaN, +inf, or only -inf: the MPFR oracle answers (cheaply)
  double max = 0;
  std::size_t argmax = 0;
  std::size_t finite = 0;
  bool all_equal = true;  // every finite entry equals the max
};

Row classify(std::span<const float> z) {
  Row row;
  bool any = false;
  for (std::size_t i = 0; i < z.size(); ++i) {
    const float x = z[i];
    if (std::isnan(x) || x == std::numeric_limits<float>::infinity()) return Row{true};
    if (x == -std::numeric_limits<float>::infinity()) continue;
    ++row.finite;
    if (!any || x > z[row.argmax]) {
      if (any) row.all_equal = false;
      row.argmax = i;
      any = true;
    } else if (x != z[row.argmax]) {
      row.all_equal = false;
    }
  }
  if (!any) row.special = true;
  else row.max = z[row.argmax];
  return row;
}

constexpr float kNegInfF = -std::numeric_limits<float>::infinity();

inline DD shift(float x, double max) { return two_sum(static_cast<double>(x), -max); }

// R̂ = Σ_{j != argmax} ê_j (optionally storing every ê_j, 1 at argmax).
DD tail_sum(const Constants& c, std::span<const float> z, const Row& row, DD* e) {
  DD r{0.0, 0.0};
  for (std::size_t i = 0; i < z.size(); ++i) {
    if (z[i] == kNegInfF) continue;
    if (i == row.argmax) {
      if (e) e[i] = {1.0, 0.0};
      continue;
    }
    const DD x = shift(z[i], row.max);
    const DD ei = (x.hi == 0 && x.lo == 0) ? DD{1.0, 0.0} : exp_dd(c, x);
    if (e) e[i] = ei;
    r = add(r, ei);
  }
  return r;
}

// L̂ = log1p(R̂) and B_L >= |L̂ - log1p(R)| (R the exact tail sum), for R̂ > 0; nullopt when the
// Newton step's start was too far off (never with a sane libm).
std::optional<DD> log1p_row(const Constants& c, DD R, std::size_t n, double& bound) {
  const double eps_r = kExpRel + static_cast<double>(n) * 0x1p-104;
  const double alpha_r = static_cast<double>(n) * 0x1p-1070;
  DD l;
  double own;
  if (R.hi < 0x1p-9) {
    double g = c.g[6];
    for (int i = 5; i >= 0; --i) g = g * R.hi + c.g[i];
    const DD h = fast_two_sum(0.5, -(R.hi * g));
    const DD w = add(neg(mul(R, h)), 1.0);
    l = mul(R, w);
    own = 0x1p-69 * std::fabs(l.hi) + 0x1p-1070;
  } else {
    const double y0 = std::log1p(R.hi + R.lo);
    if (!(y0 > 0) || !std::isfinite(y0)) return std::nullopt;
    const DD e0 = exp_dd(c, DD{-y0, 0.0});
    const DD t = add(mul(add(R, 1.0), e0), -1.0);
    if (!(std::fabs(t.hi) <= 0x1p-20)) return std::nullopt;
    l = add(t, y0);
    const double at = std::fabs(t.hi) + 0x1p-78;
    own = (1 + at) * 0x1p-79 + at * at + 0x1p-103 * std::fabs(l.hi);
  }
  bound = own + 1.02 * eps_r * std::fabs(l.hi) + alpha_r + 0x1p-1060;
  return l;
}

thread_local Stats t_stats;

}  // namespace

Stats& stats() { return t_stats; }

std::optional<std::vector<Exact<float>>> try_softmax_f32(std::span<const float> z) {
  const Row row = classify(z);
  if (z.empty() || row.special || !default_environment()) return std::nullopt;
  const Constants& c = constants();
  const std::size_t n = z.size();
  thread_local std::vector<DD> e;
  e.resize(n);
  const DD r = tail_sum(c, z, row, e.data());
  const DD inv = div(DD{1.0, 0.0}, add(r, 1.0));
  const double nd = static_cast<double>(n);
  const double eps = (2 * kExpRel + (nd + 2) * 0x1p-104 + 0x1p-100 + nd * 0x1p-1070) * 1.001;
  // 2^-1068: ê's 2^-1074 and the underflow of the product's low parts (results below 2^-1000).
  // 1/k with k a power of two: the only exact softmax values (besides the zeros of -inf).
  const bool exact = row.all_equal && (row.finite & (row.finite - 1)) == 0;
  std::vector<Exact<float>> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (z[i] == kNegInfF) {
      out[i] = Exact<float>{0.0f, 0.0, 0.0, true};
      continue;
    }
    const DD p = mul(e[i], inv);
    const std::optional<float> f = round_to_float(p, std::fabs(p.hi) * eps + 0x1p-1068, +1);
    if (!f) return std::nullopt;
    out[i] = Exact<float>{*f, p.hi, p.lo, exact};
  }
  return out;
}

std::optional<std::vector<Exact<float>>> try_log_softmax_f32(std::span<const float> z) {
  const Row row = classify(z);
  if (z.empty() || row.special || !default_environment()) return std::nullopt;
  const std::size_t n = z.size();
  std::vector<Exact<float>> out(n);
  if (row.finite == 1) {  // log_softmax is exactly 0 at the one finite entry
    for (std::size_t i = 0; i < n; ++i) {
      out[i] = i == row.argmax ? Exact<float>{0.0f, 0.0, 0.0, true} : Exact<float>{kNegInfF, -kInf, 0.0, true};
    }
    return out;
  }
  const Constants& c = constants();
  double bound_l = 0;
  const std::optional<DD> l = log1p_row(c, tail_sum(c, z, row, nullptr), n, bound_l);
  if (!l) return std::nullopt;
  for (std::size_t i = 0; i < n; ++i) {
    if (z[i] == kNegInfF) {
      out[i] = Exact<float>{kNegInfF, -kInf, 0.0, true};
      continue;
    }
    const DD d = shift(z[i], row.max);
    const DD y = add(d, neg(*l));
    const double bound = bound_l + 0x1p-104 * 1.01 * std::fabs(y.hi);
    std::optional<float> f = round_to_float(y, bound, -1);
    if (!f) f = midpoint_minus_tiny(d, std::fabs(l->hi) + bound);
    if (!f) return std::nullopt;
    out[i] = Exact<float>{*f, y.hi, y.lo, false};
  }
  return out;
}

std::optional<Exact<float>> try_logsumexp_f32(std::span<const float> z) {
  const Row row = classify(z);
  if (z.empty() || row.special || !default_environment()) return std::nullopt;
  if (row.finite == 1) {  // lse = max exactly (+0 for a zero max, as the MPFR oracle gives)
    const float m = static_cast<float>(row.max) + 0.0f;
    return Exact<float>{m, static_cast<double>(m), 0.0, true};
  }
  const Constants& c = constants();
  double bound_l = 0;
  const std::optional<DD> l = log1p_row(c, tail_sum(c, z, row, nullptr), z.size(), bound_l);
  if (!l) return std::nullopt;
  const DD a = add(*l, row.max);
  const std::optional<float> f = round_to_float(a, bound_l + 0x1p-104 * 1.01 * std::fabs(a.hi), 0);
  if (!f) return std::nullopt;
  return Exact<float>{*f, a.hi, a.lo, false};
}

// σ(x) = 1/(1 + t) (x >= 0) or t/(1 + t) (x < 0), t = e^-|x| with |t̂ - t| <= kExpRel t + 2^-1074
// (t̂ = 0 for |x| > 745.5, t < 2^-1075.5). 1 + t̂ by DWPlusFP (2^-105), the quotient by DWDivDW2
// (2^-102): |p̂ - σ| <= σ(2 kExpRel + 2^-101)·1.001 + 2^-1068 (t appears twice for x < 0, once
// with a factor t/(1+t) <= 1 otherwise). σ(0) = 1/2 is the only exact value.
std::optional<Exact<double>> try_sigmoid_f64(double x) {
  if (std::isnan(x)) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    return Exact<double>{nan, nan, 0.0, true};
  }
  if (std::isinf(x)) return Exact<double>{x > 0 ? 1.0 : 0.0, x > 0 ? 1.0 : 0.0, 0.0, true};
  if (x == 0) return Exact<double>{0.5, 0.5, 0.0, true};
  if (!default_environment()) return std::nullopt;
  if (x < -745.5) return Exact<double>{0.0, 0.0, 0.0, false};  // 0 < σ(x) < e^x < 2^-1075.5
  const double a = std::fabs(x);
  const DD t = a > 745.5 ? DD{0.0, 0.0} : exp_dd(constants(), DD{-a, 0.0});
  const DD p = div(x > 0 ? DD{1.0, 0.0} : t, add(t, 1.0));
  const std::optional<double> f =
      round_to_double(p, std::fabs(p.hi) * (2 * kExpRel + 0x1p-101) * 1.001 + 0x1p-1068, +1);
  if (!f) return std::nullopt;
  return Exact<double>{*f, p.hi, p.lo, false};
}

std::vector<Exact<float>> softmax_f32(std::span<const float> z) {
  ++t_stats.calls;
  if (auto r = try_softmax_f32(z)) return std::move(*r);
  ++t_stats.fallbacks;
  return oracle::softmax<float>(z);
}

std::vector<Exact<float>> log_softmax_f32(std::span<const float> z) {
  ++t_stats.calls;
  if (auto r = try_log_softmax_f32(z)) return std::move(*r);
  ++t_stats.fallbacks;
  return oracle::log_softmax<float>(z);
}

Exact<float> logsumexp_f32(std::span<const float> z) {
  ++t_stats.calls;
  if (auto r = try_logsumexp_f32(z)) return *r;
  ++t_stats.fallbacks;
  return oracle::logsumexp<float>(z);
}

Exact<double> sigmoid_f64(double x) {
  ++t_stats.calls;
  if (auto r = try_sigmoid_f64(x)) return *r;
  ++t_stats.fallbacks;
  return oracle::sigmoid<double>(x);
}

}  // namespace softcert::oracle::fast_oracle

// Double-double arithmetic (a value is hi + lo with |lo| <= ulp(hi)/2, about 106 bits), the
// error-free transformations it rests on (Knuth's TwoSum, Dekker/FMA TwoProd), and exp and
// log1p accurate to about 2^-100 relative: what lib's `accurate` f64 algorithm computes in, so
// that its one final rounding to double is the only error that shows.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

namespace softcert::lib::dd {

struct DD {
  double hi = 0;
  double lo = 0;
};

// a + b = s + e exactly (any magnitudes). Knuth's steps overflow where s does not but s - a does
// (|a + b| within an ULP or so of DBL_MAX: e becomes NaN); there they are taken in halves, which
// at that magnitude are exact.
inline DD two_sum(double a, double b) {
  const double s = a + b;
  const double bb = s - a;
  const double e = (a - (s - bb)) + (b - bb);
  if (std::isfinite(e) || !std::isfinite(s)) return {s, e};
  const double h = a / 2 + b / 2, hb = h - a / 2;
  return {s, 2 * ((a / 2 - (h - hb)) + (b / 2 - hb))};
}

// a + b = s + e exactly, for |a| >= |b| (or a = 0).
inline DD fast_two_sum(double a, double b) {
  const double s = a + b;
  return {s, b - (s - a)};
}

// a · b = p + e exactly (barring underflow), with one fused multiply-add.
inline DD two_prod(double a, double b) {
  const double p = a * b;
  return {p, std::fma(a, b, -p)};
}

inline DD add(DD a, DD b) {
  if (!std::isfinite(a.hi) || !std::isfinite(b.hi)) return {a.hi + b.hi, 0};
  DD s = two_sum(a.hi, b.hi);
  const DD t = two_sum(a.lo, b.lo);
  s = fast_two_sum(s.hi, s.lo + t.hi);
  return fast_two_sum(s.hi, s.lo + t.lo);
}
inline DD add(DD a, double b) { return add(a, DD{b, 0}); }
inline DD neg(DD a) { return {-a.hi, -a.lo}; }
inline DD sub(DD a, DD b) { return add(a, neg(b)); }

inline DD mul(DD a, DD b) {
  if (!std::isfinite(a.hi) || !std::isfinite(b.hi)) return {a.hi * b.hi, 0};
  DD p = two_prod(a.hi, b.hi);
  p.lo += a.hi * b.lo + a.lo * b.hi;
  return fast_two_sum(p.hi, p.lo);
}
inline DD mul(DD a, double b) { return mul(a, DD{b, 0}); }

inline DD div(DD a, DD b) {
  const double q1 = a.hi / b.hi;
  if (!std::isfinite(q1) || q1 == 0) return {q1, 0};
  const DD r = sub(a, mul(b, q1));
  // Near the top of the range b · q1 can round to inf while a / b is finite: keep q1 then.
  if (!std::isfinite(r.hi)) return {q1, 0};
  const double q2 = r.hi / b.hi;
  const DD r2 = sub(r, mul(b, q2));
  const double q3 = r2.hi / b.hi;
  return add(fast_two_sum(q1, q2), q3);
}

inline DD sqrt(DD a) {
  if (a.hi <= 0) return {std::sqrt(a.hi), 0};
  const double x = std::sqrt(a.hi);
  // One Newton step on the residual a - x^2, computed exactly enough in double-double.
  const DD residual = sub(a, two_prod(x, x));
  return fast_two_sum(x, residual.hi / (2 * x));
}

inline DD ldexp(DD a, int e) { return {std::ldexp(a.hi, e), std::ldexp(a.lo, e)}; }

// ln 2 to 159 bits as three doubles (computed with mpmath at 400 bits).
inline constexpr double kLn2Hi = 0x1.62e42fefa39efp-1;
inline constexpr double kLn2Mid = 0x1.abc9e3b39803fp-56;
inline constexpr double kLn2Lo = 0x1.7b57a079a1934p-111;
inline constexpr double kInvLn2 = 0x1.71547652b82fep+0;

// exp(x) for a double-double x. Range reduction x = k ln 2 + r with |r| <= ln2/2 + tiny, computed
// with a three-part ln 2 (k · part is exact in double-double via TwoProd); exp(r) as
// (exp(r / 2^8))^(2^8), the inner value by its Taylor series to degree 11 (|r/2^8| < 0.0014,
// the remainder below 2^-120 relative); squaring 8 times loses 8 bits. Result: ~2^-100 relative.
// `scale` multiplies the result by 2^scale exactly (exp(x) · 2^scale), so that terms far below the
// double range keep every bit when a caller works in a scaled domain.
inline DD exp(DD x, int scale = 0) {
  if (std::isnan(x.hi)) return {x.hi, 0};
  const double shift = scale * kLn2Hi;
  if (x.hi > 709.8 - shift) return {std::numeric_limits<double>::infinity(), 0};
  if (x.hi < -745.2 - shift) return {0, 0};
  const double k = std::nearbyint(x.hi * kInvLn2);
  DD r = add(x, neg(two_prod(k, kLn2Hi)));
  r = add(r, neg(two_prod(k, kLn2Mid)));
  r = add(r, -k * kLn2Lo);
  const DD t = ldexp(r, -8);
  // Horner: 1 + t (1 + t/2 (1 + t/3 (...)))
  DD p{1, 0};
  for (int i = 11; i >= 1; --i) p = add(DD{1, 0}, div(mul(p, t), DD{static_cast<double>(i), 0}));
  for (int i = 0; i < 8; ++i) p = mul(p, p);
  // A subnormal result is formed by one rounding of hi (lo, below its ULP, is then dropped).
  return ldexp(p, static_cast<int>(k) + scale);
}

// v · 2^k rounded once to double, subnormal results included: v = hi + lo is taken as the exact
// value, so a result below 2^-1022 is rounded from all its bits, not from a rounded hi.
inline double round_scaled(DD v, int k) {
  const double hi = std::ldexp(v.hi, k);
  if (!std::isfinite(hi)) return hi;  // overflow (lo · 2^k may overflow too, with the other sign)
  // From 2^-968 up, lo · 2^k is exact wherever it can decide the rounding (near half an ULP of hi
  // it is a normal double).
  if (hi == 0 || std::fabs(hi) >= 0x1p-968) return hi + std::ldexp(v.lo, k);
  // Below, lo · 2^k could round onto a false midpoint (at 2^-1021 half an ULP is 2^-1074). hi of
  // the normalised pair is v rounded; scaled, it is exact while normal.
  v = two_sum(v.hi, v.lo);
  if (std::fabs(std::ldexp(v.hi, k)) >= 0x1p-1022) return std::ldexp(v.hi, k);
  const bool negative = std::signbit(v.hi);
  const double a = std::ldexp(std::fabs(v.hi), k + 1074);             // < 2^52: exact
  const double b = std::ldexp(negative ? -v.lo : v.lo, k + 1074);     // |b| <= ulp(a)/2 <= 1/4
  const double base = std::floor(a);
  const double fraction = (a - base) + b;                             // in (-1/4, 5/4)
  double units = base;
  if (fraction > 0.5 || (fraction == 0.5 && std::fmod(base, 2) != 0)) units += 1;
  else if (fraction < -0.5 || (fraction == -0.5 && std::fmod(base, 2) != 0)) units -= 1;
  else if (fraction < 0 && fraction > -0.5) units += 0;               // rounds back to base
  const double r = std::ldexp(units, -1074);
  return negative ? -r : r;
}

// hi + lo rounded once to float, for a normalised pair (hi = fl(hi + lo)): hi is first rounded to
// odd (when lo != 0 and hi's last bit is even, the neighbour of hi on lo's side, which is odd).
// Rounding to odd at 53 bits and then to nearest at 24 is correct rounding (53 >= 24 + 2), so a
// double that sits exactly on a float midpoint with a tiny lo beyond it rounds the right way.
inline float round_to_float(DD v) {
  double h = v.hi;
  if (v.lo != 0 && std::isfinite(h) && (std::bit_cast<std::uint64_t>(h) & 1) == 0) {
    h = std::nextafter(h, v.lo > 0 ? std::numeric_limits<double>::infinity()
                                   : -std::numeric_limits<double>::infinity());
  }
  return static_cast<float>(h);
}

// a + b rounded once to double, exact midpoints included: the four parts are distilled (two
// VecSum passes) to r + next + sticky with |next| <= ulp(r)/2; where r + next is a rounding
// midpoint, the sign of the sticky remainder decides (ties to even only for an exact tie).
inline double round_sum(DD a, DD b) {
  if (!std::isfinite(a.hi) || !std::isfinite(b.hi)) return a.hi + b.hi;
  double t[4] = {b.lo, a.lo, b.hi, a.hi};
  for (int pass = 0; pass < 2; ++pass) {
    for (int j = 1; j < 4; ++j) {
      const DD s = two_sum(t[j], t[j - 1]);
      t[j] = s.hi, t[j - 1] = s.lo;
    }
  }
  const DD top = two_sum(t[3], t[2]);
  const double sticky = t[1] + t[0];
  if (!std::isfinite(top.hi) || top.lo == 0 || sticky == 0) return top.hi;
  const double toward = std::nextafter(top.hi, top.lo > 0 ? std::numeric_limits<double>::infinity()
                                                          : -std::numeric_limits<double>::infinity());
  const bool midpoint = toward - top.hi == 2 * top.lo;
  if (midpoint && std::signbit(sticky) == std::signbit(top.lo)) return toward;
  return top.hi;
}

// v · 2^k rounded once to T (double or float).
template <typename T>
T round_to(DD v, int k) {
  if constexpr (sizeof(T) == sizeof(double)) {
    return round_scaled(v, k);
  } else {
    // Every float, subnormals included, is a normal double: the scaling is exact where it matters
    // (a result below 2^-969 rounds to a float zero whatever its low bits).
    return round_to_float(ldexp(v, k));
  }
}

// log1p(x) for x >= 0 as double-double, ~2^-100 relative. Small x: the alternating series in
// double-double (x < 2^-6: 20 terms leave x^21/21 < 2^-126 relative). Larger x: Newton's step
// y1 = y0 + (1 + x) exp(-y0) - 1 from the double y0 = log1p(x), which doubles its 53 bits.
inline DD log1p(DD x) {
  if (x.hi == 0) return {0, 0};
  if (!std::isfinite(x.hi)) return {std::log1p(x.hi), 0};
  if (x.hi < 0x1p-6) {
    DD sum{0, 0};
    for (int i = 20; i >= 1; --i) {
      const DD term = div(DD{(i % 2 == 1) ? 1.0 : -1.0, 0}, DD{static_cast<double>(i), 0});
      sum = add(term, mul(sum, x));
    }
    return mul(sum, x);
  }
  const double y0 = std::log1p(x.hi + x.lo);
  const DD one_plus_x = add(DD{1, 0}, x);
  const DD correction = add(mul(one_plus_x, exp(DD{-y0, 0})), -1.0);
  return add(DD{y0, 0}, correction);
}

}  // namespace softcert::lib::dd

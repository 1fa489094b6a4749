// The oracle's only window on MPFR/MPFI: exact real arithmetic on float inputs (Real at whatever
// precision makes a result exact) and interval enclosures at a chosen working precision
// (Interval), plus the test that decides the rounding of an enclosure to T.
//
// Precision policy (written down, as LLVM libc's MPCommon.h does):
//   - sums, differences and products of inputs are computed EXACTLY, with the precision sized
//     from the operands' exponents and significant bits (z_i - max z for f64 can need ~2100 bits);
//   - everything transcendental (exp, log, log1p, sqrt, division) is an interval at the Ziv
//     working precision, which starts at 2·p + 20 bits (p = T's significand bits) and doubles
//     until both ends of every enclosure round to the same T, up to kMaxPrecisionBits.
#pragma once

#include <mpfi.h>
#include <mpfr.h>

#include <boost/multiprecision/mpfi.hpp>
#include <boost/multiprecision/mpfr.hpp>
#include <cstddef>
#include <limits>
#include <optional>
#include <span>
#include <vector>

#include "softcert/oracle.hpp"

namespace softcert::oracle::mp {

namespace bm = boost::multiprecision;
// Expression templates off: every result is a concrete value whose precision we control. With
// variable precision, Boost gives a result the precision of its operands, so an Interval made at
// the working precision keeps it through every operation.
using Real = bm::number<bm::mpfr_float_backend<0>, bm::et_off>;
using Interval = bm::number<bm::mpfi_float_backend<0>, bm::et_off>;

inline constexpr unsigned kMaxPrecisionBits = 1u << 16;

// The first working precision of the Ziv loop for results rounded to `f`.
inline unsigned initial_precision(const FloatFormat& f) { return 2 * static_cast<unsigned>(f.digits) + 20; }

// Exact value of a finite float.
template <typename T>
Real exact(T x) {
  Real r;
  mpfr_set_prec(r.backend().data(), std::numeric_limits<T>::digits);
  mpfr_set_d(r.backend().data(), static_cast<double>(x), MPFR_RNDN);  // exact: T fits a double
  return r;
}

Real exact_sum(std::span<const Real> terms);          // Σ terms, exactly
Real exact_difference(const Real& a, const Real& b);  // a - b, exactly
Real exact_product(const Real& a, const Real& b);     // a · b, exactly

// An interval at `bits` of working precision enclosing the exact value r (a point when r fits).
Interval enclose(const Real& r, unsigned bits);
Interval enclose(double x, unsigned bits);  // x exactly (a double always fits 53 bits)

// The rounding of an enclosure to the format `f` (T's own, or a reduced format whose values T
// carries), when both of its ends round to the same value; nullopt when the working precision is
// not enough to decide it.
template <typename T>
std::optional<Exact<T>> decide(const Interval& v, const FloatFormat& f);

// The rounding of an exact value to T (always decided).
template <typename T>
Exact<T> round_exact(const Real& r);

// A result known without computing (a special value, or exact by construction).
template <typename T>
Exact<T> known(T value) {
  return Exact<T>{value, static_cast<double>(value), 0.0, true};
}

// The Ziv loop: evaluate(bits) gives enclosures of every output; the precision doubles until
// every one of them is decided (rounded to `f`, T's own format unless a reduced one is asked
// for). `known_outputs[i]` (when set) is taken as is and not decided. Throws std::runtime_error
// past kMaxPrecisionBits (a case the oracle cannot decide must never be guessed).
template <typename T, typename Evaluate>
std::vector<Exact<T>> ziv(std::vector<std::optional<Exact<T>>> outputs, Evaluate&& evaluate,
                          const FloatFormat& f = format_of<T>());

}  // namespace softcert::oracle::mp

#include "multiprecision_ziv.hpp"

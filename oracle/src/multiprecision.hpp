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

#include <boost/multiprecision/mpfr.hpp>
#include <cstddef>
#include <limits>
#include <optional>
#include <span>
#include <vector>

#include "softcert/oracle.hpp"

namespace softcert::oracle::mp {

namespace bm = boost::multiprecision;
// Expression templates off: every result is a concrete value. A Real gets its precision
// explicitly (exact(), with_precision() in multiprecision.cc) or from the Real it is copied or
// moved from, never from Boost's shared default (see Interval).
using Real = bm::number<bm::mpfr_float_backend<0>, bm::et_off>;

// An MPFI interval with the arithmetic the oracle needs; every result takes the larger of its
// operands' precisions, so an Interval made at the working precision keeps it throughout.
// Not Boost's mpfi_float: Boost before 1.77 (Debian 12 has 1.74) keeps the default precision of
// its variable-precision numbers in one static shared by every thread, and each operation sets it
// to its operands' precision while it runs (scoped_default_precision), making its temporaries and
// at times its result (maybe_promote_precision) at that default. Two certifier threads at
// different working precisions then computed at each other's: the enclosures still held (MPFI
// rounds outward) but widened, so the Ziv loop retried for nothing. An f64 large_n task took 16 s
// instead of 0.7 while the other thread decided f16 outputs at 42 bits, and reported errors moved
// in their last digits from run to run (boostorg/multiprecision#211, fixed in 1.77 by #318).
class Interval {
 public:
  Interval() { mpfi_init2(v_, MPFR_PREC_MIN); }  // a placeholder: assign before use
  explicit Interval(mpfr_prec_t bits) { mpfi_init2(v_, bits); }
  Interval(const Interval& o) {
    mpfi_init2(v_, mpfi_get_prec(o.v_));
    mpfi_set(v_, o.v_);
  }
  Interval(Interval&& o) noexcept {
    mpfi_init2(v_, MPFR_PREC_MIN);
    mpfi_swap(v_, o.v_);
  }
  Interval& operator=(const Interval& o) {
    if (this != &o) {
      mpfi_set_prec(v_, mpfi_get_prec(o.v_));
      mpfi_set(v_, o.v_);
    }
    return *this;
  }
  Interval& operator=(Interval&& o) noexcept {
    mpfi_swap(v_, o.v_);
    return *this;
  }
  ~Interval() { mpfi_clear(v_); }

  mpfi_ptr data() { return v_; }
  mpfi_srcptr data() const { return v_; }
  mpfr_prec_t precision() const { return mpfi_get_prec(v_); }

  Interval& operator+=(const Interval& o) { return apply(o, mpfi_add); }
  Interval& operator-=(const Interval& o) { return apply(o, mpfi_sub); }
  Interval& operator*=(const Interval& o) { return apply(o, mpfi_mul); }
  Interval& operator/=(const Interval& o) { return apply(o, mpfi_div); }

 private:
  Interval& apply(const Interval& o, int (*op)(mpfi_ptr, mpfi_srcptr, mpfi_srcptr)) {
    if (o.precision() > precision()) mpfi_round_prec(v_, o.precision());  // exact: more bits
    op(v_, v_, o.v_);
    return *this;
  }
  mpfi_t v_;
};

inline Interval operator+(Interval a, const Interval& b) { return a += b; }
inline Interval operator-(Interval a, const Interval& b) { return a -= b; }
inline Interval operator*(Interval a, const Interval& b) { return a *= b; }
inline Interval operator/(Interval a, const Interval& b) { return a /= b; }
inline Interval operator+(long k, const Interval& a) {
  Interval r(a.precision());
  mpfi_add_si(r.data(), a.data(), k);
  return r;
}
inline Interval operator-(const Interval& a) {
  Interval r(a.precision());
  mpfi_neg(r.data(), a.data());
  return r;
}

// f(a) at a's precision, for MPFI's one-argument functions.
inline Interval apply(const Interval& a, int (*f)(mpfi_ptr, mpfi_srcptr)) {
  Interval r(a.precision());
  f(r.data(), a.data());
  return r;
}
inline Interval exp(const Interval& a) { return apply(a, mpfi_exp); }
inline Interval log(const Interval& a) { return apply(a, mpfi_log); }
inline Interval log1p(const Interval& a) { return apply(a, mpfi_log1p); }
inline Interval sqrt(const Interval& a) { return apply(a, mpfi_sqrt); }
inline Interval abs(const Interval& a) { return apply(a, mpfi_abs); }

// The ends of a, exactly (at a's precision).
inline Real lower(const Interval& a) {
  Real r;
  mpfr_set_prec(r.backend().data(), a.precision());
  mpfi_get_left(r.backend().data(), a.data());
  return r;
}
inline Real upper(const Interval& a) {
  Real r;
  mpfr_set_prec(r.backend().data(), a.precision());
  mpfi_get_right(r.backend().data(), a.data());
  return r;
}

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

#include "multiprecision.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

namespace softcert::oracle::mp {

ZivStats& ziv_stats_storage() {
  thread_local ZivStats stats;
  return stats;
}

namespace {

mpfr_srcptr raw(const Real& r) { return r.backend().data(); }
mpfr_ptr raw(Real& r) { return r.backend().data(); }

// Exponent of the lowest set bit of a nonzero r (r = m · 2^e with m odd).
long lowest_bit(mpfr_srcptr r) { return mpfr_get_exp(r) - static_cast<long>(mpfr_min_prec(r)); }

// A Real of exactly `bits` precision (at least MPFR_PREC_MIN).
Real with_precision(long bits) {
  Real r;
  mpfr_set_prec(raw(r), std::max<long>(bits, MPFR_PREC_MIN));
  return r;
}

}  // namespace

Real exact_sum(std::span<const Real> terms) {
  long top = std::numeric_limits<long>::min();
  long bottom = std::numeric_limits<long>::max();
  for (const Real& t : terms) {
    if (mpfr_zero_p(raw(t))) continue;
    top = std::max<long>(top, mpfr_get_exp(raw(t)));
    bottom = std::min(bottom, lowest_bit(raw(t)));
  }
  if (top == std::numeric_limits<long>::min()) {
    Real zero = with_precision(2);
    mpfr_set_zero(raw(zero), 1);
    return zero;
  }
  // Every partial sum is a multiple of 2^bottom below 2^(top + log2(count) + 1): exact at
  // top - bottom + log2(count) + 2 bits.
  const long carry = std::bit_width(terms.size()) + 1;
  Real sum = with_precision(top - bottom + carry);
  mpfr_set_zero(raw(sum), 1);
  for (const Real& t : terms) mpfr_add(raw(sum), raw(sum), raw(t), MPFR_RNDN);
  return sum;
}

Real exact_difference(const Real& a, const Real& b) {
  Real negated = b;
  mpfr_neg(raw(negated), raw(b), MPFR_RNDN);  // exact: same precision
  const Real terms[] = {a, negated};
  return exact_sum(terms);
}

Real exact_product(const Real& a, const Real& b) {
  Real product = with_precision(static_cast<long>(mpfr_min_prec(raw(a)) + mpfr_min_prec(raw(b))));
  mpfr_mul(raw(product), raw(a), raw(b), MPFR_RNDN);  // exact: enough bits for both significands
  return product;
}

Interval enclose(const Real& r, unsigned bits) {
  Interval i(bits);
  mpfi_set_fr(i.data(), raw(r));  // rounds outward when r has more bits
  return i;
}

Interval enclose(double x, unsigned bits) {
  Interval i(bits);
  mpfi_set_d(i.data(), x);
  return i;
}

namespace {

// Nearest-even rounding to the format f with gradual underflow and overflow to inf, the way
// IEEE 754 defines it: round to p bits with an unbounded exponent (so the overflow threshold
// MAX + ulp/2, a tie, goes to the even neighbour 2^emax, that is inf), then apply f's exponent
// range with mpfr_check_range and mpfr_subnormalize (the MPFR manual's recipe for emulating a
// format). The result is a double (exact: every format here fits one).
double round_to(mpfr_srcptr x, const FloatFormat& f) {
  const int p = f.digits;
  // MPFR writes x = m · 2^e with 1/2 <= m < 1: f's normal range is e in [min_exponent, max_exponent],
  // and its smallest subnormal 2^(min_exponent - p) = 1/2 · 2^(min_exponent - p + 1).
  const mpfr_exp_t emin = f.min_exponent - p + 1;
  const mpfr_exp_t emax = f.max_exponent;
  const mpfr_exp_t saved_emin = mpfr_get_emin(), saved_emax = mpfr_get_emax();
  mpfr_t y;
  mpfr_init2(y, p);
  int inexact = mpfr_set(y, x, MPFR_RNDN);  // unbounded exponent: x's own range is wider
  mpfr_set_emin(emin);
  mpfr_set_emax(emax);
  inexact = mpfr_check_range(y, inexact, MPFR_RNDN);
  mpfr_subnormalize(y, inexact, MPFR_RNDN);
  mpfr_set_emin(saved_emin);
  mpfr_set_emax(saved_emax);
  const double d = mpfr_get_d(y, MPFR_RNDN);  // exact: y is a value of f
  mpfr_clear(y);
  return d;
}

template <typename T>
bool same_encoding(T a, T b) {
  return std::memcmp(&a, &b, sizeof(T)) == 0;
}

// hi + lo ≈ x to ~106 bits (hi is x rounded to double; lo the rounded remainder).
void split(mpfr_srcptr x, double& hi, double& lo) {
  hi = mpfr_get_d(x, MPFR_RNDN);
  if (!std::isfinite(hi)) {
    lo = 0.0;
    return;
  }
  mpfr_t rest;
  mpfr_init2(rest, mpfr_get_prec(x) + 64);
  mpfr_sub_d(rest, x, hi, MPFR_RNDN);
  lo = mpfr_get_d(rest, MPFR_RNDN);
  mpfr_clear(rest);
}

template <typename T>
bool representable(mpfr_srcptr x, T rounded) {
  return std::isfinite(rounded) && mpfr_cmp_d(x, static_cast<double>(rounded)) == 0;
}

}  // namespace

template <typename T>
std::optional<Exact<T>> decide(const Interval& v, const FloatFormat& f) {
  mpfi_srcptr iv = v.data();
  if (mpfi_nan_p(iv)) throw std::runtime_error("oracle: NaN enclosure (an unhandled special value)");
  const T low = static_cast<T>(round_to(&iv->left, f));
  const T high = static_cast<T>(round_to(&iv->right, f));
  Exact<T> e{};
  if (mpfi_is_zero(iv)) {  // the point 0: MPFI keeps it as [+0, -0]; an exact real 0 is +0
    e = known<T>(T(0));
    return e;
  }
  if (!same_encoding(low, high)) return std::nullopt;
  e.value = low;
  Real mid = with_precision(static_cast<long>(mpfi_get_prec(iv)) + 1);
  mpfi_mid(raw(mid), iv);
  split(raw(mid), e.hi, e.lo);
  e.exact = mpfr_equal_p(&iv->left, &iv->right) && representable<T>(&iv->left, low);
  return e;
}

template <typename T>
Exact<T> round_exact(const Real& r) {
  Exact<T> e{};
  e.value = static_cast<T>(round_to(raw(r), format_of<T>()));
  if (mpfr_zero_p(raw(r))) e.value = T(0);  // the exact real 0 is +0
  split(raw(r), e.hi, e.lo);
  e.exact = mpfr_zero_p(raw(r)) || representable<T>(raw(r), e.value);
  return e;
}

template std::optional<Exact<float>> decide<float>(const Interval&, const FloatFormat&);
template std::optional<Exact<double>> decide<double>(const Interval&, const FloatFormat&);
template Exact<float> round_exact<float>(const Real&);
template Exact<double> round_exact<double>(const Real&);

}  // namespace softcert::oracle::mp

namespace softcert::oracle {
ZivStats& ziv_stats() { return mp::ziv_stats_storage(); }
void release_thread_caches() { mpfr_free_cache2(MPFR_FREE_LOCAL_CACHE); }
}  // namespace softcert::oracle

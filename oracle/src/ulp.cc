// ULP distance and fractional ULP error (oracle.hpp). No multiprecision needed: the exact value
// arrives as the double-double hi + lo that the oracle computed.
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include "softcert/oracle.hpp"

namespace softcert::oracle {
namespace {

template <typename T>
using Bits = std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>;

// Maps T onto integers so that adjacent representable values differ by 1, +0 and -0 both to 0.
template <typename T>
Bits<T> ordinal(T x) {
  const auto bits = std::bit_cast<Bits<T>>(x);
  return bits < 0 ? -(bits & std::numeric_limits<Bits<T>>::max()) : bits;
}

constexpr double kInf = std::numeric_limits<double>::infinity();

}  // namespace

template <typename T>
double ulp_distance(T a, T b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b) ? 0.0 : kInf;
  if (std::isinf(a) || std::isinf(b)) return a == b ? 0.0 : kInf;
  // In 128 bits: two f64 ordinals can be 2^64 apart, and doubles would lose the small distances.
  const __int128 d = static_cast<__int128>(ordinal(a)) - static_cast<__int128>(ordinal(b));
  return static_cast<double>(d < 0 ? -d : d);
}

double ulp_of(double x, const FloatFormat& f) {
  const int p = f.digits;
  const int emin = f.min_exponent - 1;  // exponent of the smallest normal
  if (x == 0 || !std::isfinite(x)) return std::ldexp(1.0, emin - p + 1);
  const int e = std::ilogb(x);
  return std::ldexp(1.0, std::max(e, emin) - p + 1);
}

template <typename T>
double ulp_of(double x) {
  return ulp_of(x, format_of<T>());
}

namespace {

template <typename T>
double ulp_error_in(T computed, const Exact<T>& exact, const FloatFormat& f) {
  if (!std::isfinite(exact.value) || !std::isfinite(computed)) {
    return ulp_distance(computed, exact.value);  // only equality matters there: any format
  }
  // The ULP of the exact real value: hi can round up to a power of two from just below it,
  // where the exact value still lies in the binade beneath (lo then has the opposite sign).
  double ulp = ulp_of(exact.hi, f);
  const int e = std::ilogb(exact.hi);
  if (exact.hi != 0 && std::fabs(exact.hi) == std::ldexp(1.0, e) && exact.lo != 0 &&
      std::signbit(exact.lo) != std::signbit(exact.hi)) {
    ulp = std::min(ulp, ulp_of(std::ldexp(std::fabs(exact.hi), -1), f));
  }
  // computed - hi is exact when they are close (Sterbenz); the rest rounds once.
  const double diff = (static_cast<double>(computed) - exact.hi) - exact.lo;
  return std::fabs(diff) / ulp;
}

}  // namespace

template <typename T>
double ulp_error(T computed, const Exact<T>& exact) {
  return ulp_error_in(computed, exact, format_of<T>());
}

double ulp_error(float computed, const Exact<float>& exact, const FloatFormat& f) {
  return ulp_error_in(computed, exact, f);
}

namespace {

template <typename T>
bool within_bound_in(T computed, const Exact<T>& exact, double bound_ulps, const FloatFormat& f) {
  if (std::isfinite(exact.value) && !std::isfinite(computed)) return false;
  if (computed == 0 && std::fabs(exact.hi) < f.min_normal()) return true;  // flushed: reported (§2)
  return ulp_error_in(computed, exact, f) <= bound_ulps;
}

}  // namespace

template <typename T>
bool within_bound(T computed, const Exact<T>& exact, double bound_ulps) {
  return within_bound_in(computed, exact, bound_ulps, format_of<T>());
}

bool within_bound(float computed, const Exact<float>& exact, double bound_ulps, const FloatFormat& f) {
  return within_bound_in(computed, exact, bound_ulps, f);
}

template double ulp_distance<float>(float, float);
template double ulp_distance<double>(double, double);
template double ulp_of<float>(double);
template double ulp_of<double>(double);
template double ulp_error<float>(float, const Exact<float>&);
template double ulp_error<double>(double, const Exact<double>&);
template bool within_bound<float>(float, const Exact<float>&, double);
template bool within_bound<double>(double, const Exact<double>&, double);

}  // namespace softcert::oracle

// Binary floating-point formats by their parameters, and the two reduced-precision formats of the
// plugin ABI (IEEE binary16 and bfloat16, passed as uint16_t bit patterns; DESIGN.md §3).
//
// Every binary16 and every bfloat16 value is exactly a float, so reduced-precision data travels
// through softcert as float: only kernels see the bits. encode() rounds to nearest-even with
// gradual underflow and overflow to infinity, as IEEE 754 defines the conversion; it is written
// out here because the conversions at hand do not all do that (Highway 1.0's BF16FromF32
// truncates, and gcc 12 has no bfloat16 arithmetic type).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>

namespace softcert {

struct FloatFormat {
  std::string_view name;  // "f16", "bf16", "f32", "f64": the report's dtype
  int digits;             // significand bits p, hidden bit included (numeric_limits::digits)
  int min_exponent;       // as numeric_limits: the smallest normal is 2^(min_exponent - 1)
  int max_exponent;       // as numeric_limits: every finite value is below 2^max_exponent
  int exponent_bits;      // width of the encoded exponent field (reduced formats only)

  // The smallest normal, the smallest subnormal, the largest finite value.
  double min_normal() const { return std::ldexp(1.0, min_exponent - 1); }
  double denorm_min() const { return std::ldexp(1.0, min_exponent - digits); }
  double max() const { return std::ldexp(2.0 - std::ldexp(1.0, 1 - digits), max_exponent - 1); }
};

inline constexpr FloatFormat kBinary16{"f16", 11, -13, 16, 5};
inline constexpr FloatFormat kBFloat16{"bf16", 8, -125, 128, 8};
inline constexpr FloatFormat kBinary32{"f32", std::numeric_limits<float>::digits,
                                       std::numeric_limits<float>::min_exponent,
                                       std::numeric_limits<float>::max_exponent, 8};
inline constexpr FloatFormat kBinary64{"f64", std::numeric_limits<double>::digits,
                                       std::numeric_limits<double>::min_exponent,
                                       std::numeric_limits<double>::max_exponent, 11};

template <typename T>
constexpr const FloatFormat& format_of() {
  static_assert(sizeof(T) == sizeof(float) || sizeof(T) == sizeof(double));
  if constexpr (sizeof(T) == sizeof(float)) return kBinary32; else return kBinary64;
}

// x rounded to nearest-even in `f` (a reduced format), as the bit pattern. NaN stays NaN (quiet,
// sign kept); values at or beyond the overflow threshold become ±inf.
inline std::uint16_t encode(double x, const FloatFormat& f) {
  const int mantissa_bits = f.digits - 1;
  const std::uint16_t exponent_mask = static_cast<std::uint16_t>(((1u << f.exponent_bits) - 1) << mantissa_bits);
  const std::uint16_t sign = std::signbit(x) ? 0x8000 : 0;
  if (std::isnan(x)) return sign | exponent_mask | static_cast<std::uint16_t>(1u << (mantissa_bits - 1));
  const double a = std::fabs(x);
  if (a == 0) return sign;
  if (std::isinf(a)) return sign | exponent_mask;
  // a = s · q with q the ULP of a's binade (or of the subnormals): s < 2^digits, exact in double.
  const int emin = f.min_exponent - 1;
  int e = std::max(std::ilogb(a), emin);
  const double s = std::ldexp(a, mantissa_bits - e);
  double m = std::floor(s);
  const double rest = s - m;  // exact
  if (rest > 0.5 || (rest == 0.5 && std::fmod(m, 2.0) == 1.0)) m += 1;  // nearest, ties to even
  if (m == std::ldexp(1.0, f.digits)) m /= 2, ++e;  // rounded up into the next binade
  if (e >= f.max_exponent) return sign | exponent_mask;
  const auto mantissa = static_cast<std::uint32_t>(m);
  if (mantissa < (1u << mantissa_bits)) return sign | static_cast<std::uint16_t>(mantissa);  // subnormal
  const auto biased = static_cast<std::uint32_t>(e - emin + 1);
  return sign | static_cast<std::uint16_t>((biased << mantissa_bits) | (mantissa - (1u << mantissa_bits)));
}

// The value of a bit pattern of `f` (exact: every such value is a float).
inline float decode(std::uint16_t bits, const FloatFormat& f) {
  const int mantissa_bits = f.digits - 1;
  const std::uint32_t biased = (bits >> mantissa_bits) & ((1u << f.exponent_bits) - 1);
  const std::uint32_t mantissa = bits & ((1u << mantissa_bits) - 1);
  const float sign = (bits & 0x8000) ? -1.0f : 1.0f;
  const int emin = f.min_exponent - 1;
  if (biased == (1u << f.exponent_bits) - 1) {
    return mantissa != 0 ? std::copysign(std::numeric_limits<float>::quiet_NaN(), sign)
                         : sign * std::numeric_limits<float>::infinity();
  }
  if (biased == 0) return sign * std::ldexp(static_cast<float>(mantissa), emin - mantissa_bits);
  const auto significand = static_cast<float>(mantissa | (1u << mantissa_bits));
  return sign * std::ldexp(significand, static_cast<int>(biased) - 1 + emin - mantissa_bits);
}

// x rounded to nearest-even in `f`, as a float.
inline float round_to(double x, const FloatFormat& f) { return decode(encode(x, f), f); }

// Whether the float x is a value of `f` (NaN and ±inf are).
inline bool representable(float x, const FloatFormat& f) {
  return std::isnan(x) || round_to(x, f) == x;
}

}  // namespace softcert

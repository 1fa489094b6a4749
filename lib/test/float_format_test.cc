// The reduced-precision formats of the ABI (float_format.hpp): encode and decode against
// independent conversions — the compiler's _Float16 (libgcc's correctly rounded soft-float
// routines) for binary16, and the round-to-nearest-even bit recipe on float bits for bfloat16 —
// over every bit pattern and over doubles aimed at every rounding boundary.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

#include "softcert/float_format.hpp"

namespace softcert::test {
namespace {

// bfloat16 from a float by the usual bit recipe: add 0x7fff plus the lowest kept bit, truncate.
std::uint16_t bf16_reference(float x) {
  const auto bits = std::bit_cast<std::uint32_t>(x);
  if (std::isnan(x)) return static_cast<std::uint16_t>((bits >> 16) | 0x40);
  return static_cast<std::uint16_t>((bits + 0x7fff + ((bits >> 16) & 1)) >> 16);
}

bool same(float a, float b) { return std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b); }

TEST(FloatFormat, Parameters) {
  EXPECT_EQ(kBinary16.max(), 65504.0);
  EXPECT_EQ(kBinary16.min_normal(), std::ldexp(1.0, -14));
  EXPECT_EQ(kBinary16.denorm_min(), std::ldexp(1.0, -24));
  EXPECT_EQ(kBFloat16.max(), std::ldexp(255.0, 120));
  EXPECT_EQ(kBFloat16.min_normal(), double(std::numeric_limits<float>::min()));
  EXPECT_EQ(kBFloat16.denorm_min(), std::ldexp(1.0, -133));
  EXPECT_EQ(kBinary32.max(), double(std::numeric_limits<float>::max()));
  EXPECT_EQ(kBinary64.denorm_min(), std::numeric_limits<double>::denorm_min());
}

TEST(FloatFormat, EveryBitPatternDecodesAndEncodesBack) {
  for (const FloatFormat* f : {&kBinary16, &kBFloat16}) {
    for (std::uint32_t b = 0; b <= 0xffff; ++b) {
      const auto bits = static_cast<std::uint16_t>(b);
      const float x = decode(bits, *f);
      if (std::isnan(x)) {
        EXPECT_TRUE(std::isnan(decode(encode(x, *f), *f)));
        continue;
      }
      ASSERT_EQ(encode(x, *f), bits) << f->name << " " << b;
      EXPECT_TRUE(representable(x, *f));
    }
  }
}

#if defined(__FLT16_MANT_DIG__) && !defined(__clang__)
TEST(FloatFormat, Binary16MatchesTheCompilersConversion) {
  for (std::uint32_t b = 0; b <= 0xffff; ++b) {
    const auto bits = static_cast<std::uint16_t>(b);
    const _Float16 h = std::bit_cast<_Float16>(bits);
    if (h != h) continue;
    ASSERT_TRUE(same(decode(bits, kBinary16), static_cast<float>(h))) << b;
  }
  // Doubles at, just below and just above every midpoint between neighbours (and beyond max).
  std::mt19937_64 rng(5);
  for (std::uint32_t b = 0; b < 0x7c00; ++b) {
    const double lo = decode(static_cast<std::uint16_t>(b), kBinary16);
    const double hi = b + 1 == 0x7c00 ? 65520.0 : double(decode(static_cast<std::uint16_t>(b + 1), kBinary16));
    const double mid = (lo + hi) / 2;  // exact in double
    for (double x : {mid, std::nextafter(mid, 0.0), std::nextafter(mid, 1e9), lo + (hi - lo) * (rng() % 1000) / 1000.0}) {
      for (double s : {x, -x}) {
        const auto expected = std::bit_cast<std::uint16_t>(static_cast<_Float16>(s));
        ASSERT_EQ(encode(s, kBinary16), expected) << std::hexfloat << s;
      }
    }
  }
}
#endif

TEST(FloatFormat, BFloat16MatchesTheBitRecipeOnEveryFloatNearABoundary) {
  std::mt19937_64 rng(7);
  for (std::uint32_t b = 0; b < 0x7f80; ++b) {
    const std::uint32_t base = b << 16;
    // The pattern itself, the midpoint to the next, its neighbours, and a random float between.
    for (std::uint32_t low : {0u, 0x8000u, 0x7fffu, 0x8001u, static_cast<std::uint32_t>(rng() & 0xffff)}) {
      for (std::uint32_t sign : {0u, 0x80000000u}) {
        const float x = std::bit_cast<float>(sign | base | low);
        ASSERT_EQ(encode(x, kBFloat16), bf16_reference(x)) << std::hexfloat << x;
      }
    }
  }
  EXPECT_EQ(encode(std::numeric_limits<double>::infinity(), kBFloat16), 0x7f80);
  EXPECT_EQ(encode(1e300, kBFloat16), 0x7f80);
  EXPECT_EQ(encode(-1e-300, kBFloat16), 0x8000);
}

TEST(FloatFormat, RoundsDoublesOnceNotTwice) {
  // 1 + 2^-11 + 2^-40 rounds up in binary16 (above the midpoint), although rounding it to float
  // first gives the midpoint 1 + 2^-11, which ties to even (down).
  const double x = 1 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40);
  EXPECT_EQ(decode(encode(x, kBinary16), kBinary16), 1 + std::ldexp(1.0f, -10));
  EXPECT_EQ(decode(encode(static_cast<float>(x), kBinary16), kBinary16), 1.0f);
}

}  // namespace
}  // namespace softcert::test

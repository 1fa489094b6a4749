// The oracle's own behaviour: exactness flags, special values of DESIGN.md §2, rounding at the
// edges of the format (subnormals, overflow), ULP arithmetic, and that the bounds bound.
#include <gtest/gtest.h>

#include <atomic>
#include <bit>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <stdexcept>
#include <thread>
#include <vector>

#include "softcert/bounds.hpp"
#include "softcert/oracle.hpp"

namespace softcert::oracle {
namespace {

template <typename T>
class OracleTest : public ::testing::Test {};
using Types = ::testing::Types<float, double>;
TYPED_TEST_SUITE(OracleTest, Types);

template <typename T>
constexpr T kInf = std::numeric_limits<T>::infinity();

TYPED_TEST(OracleTest, EqualLogitsGiveExactUniform) {
  using T = TypeParam;
  const std::vector<T> z{0, 0, 0, 0};
  for (const Exact<T>& p : softmax<T>(z)) {
    EXPECT_EQ(p.value, T(0.25));
    EXPECT_TRUE(p.exact);
  }
  const std::vector<T> three{7, 7, 7};  // 1/3 is not representable: decided, not exact
  for (const Exact<T>& p : softmax<T>(three)) {
    EXPECT_EQ(p.value, T(1) / T(3));
    EXPECT_FALSE(p.exact);
  }
}

TYPED_TEST(OracleTest, SigmoidOfZeroIsExactlyHalf) {
  using T = TypeParam;
  const Exact<T> s = sigmoid<T>(0);
  EXPECT_EQ(s.value, T(0.5));
  EXPECT_TRUE(s.exact);
  EXPECT_EQ(sigmoid<T>(kInf<T>).value, T(1));
  EXPECT_EQ(sigmoid<T>(-kInf<T>).value, T(0));
  EXPECT_TRUE(std::isnan(sigmoid<T>(std::numeric_limits<T>::quiet_NaN()).value));
}

TYPED_TEST(OracleTest, SpecialValueRows) {
  using T = TypeParam;
  const T nan = std::numeric_limits<T>::quiet_NaN();
  const std::vector<T> with_nan{1, nan, 2};
  for (const auto& p : softmax<T>(with_nan)) EXPECT_TRUE(std::isnan(p.value));
  EXPECT_TRUE(std::isnan(logsumexp<T>(with_nan).value));

  const std::vector<T> two_inf{kInf<T>, 3, kInf<T>};
  const auto p = softmax<T>(two_inf);
  EXPECT_EQ(p[0].value, T(0.5));
  EXPECT_EQ(p[1].value, T(0));
  EXPECT_EQ(p[2].value, T(0.5));
  const auto ls = log_softmax<T>(two_inf);
  EXPECT_EQ(ls[0].value, static_cast<T>(-std::log(2.0L)));
  EXPECT_EQ(ls[1].value, -kInf<T>);
  EXPECT_EQ(logsumexp<T>(two_inf).value, kInf<T>);

  const std::vector<T> masked{-kInf<T>, -kInf<T>};
  for (const auto& q : softmax<T>(masked)) EXPECT_EQ(std::bit_cast<T>(q.value), T(0));
  for (const auto& q : log_softmax<T>(masked)) EXPECT_EQ(q.value, -kInf<T>);
  EXPECT_EQ(logsumexp<T>(masked).value, -kInf<T>);

  const std::vector<T> partly{-kInf<T>, 0, -kInf<T>};
  const auto r = softmax<T>(partly);
  EXPECT_EQ(r[0].value, T(0));
  EXPECT_FALSE(std::signbit(r[0].value));
  EXPECT_EQ(r[1].value, T(1));
  EXPECT_TRUE(r[1].exact);
}

TYPED_TEST(OracleTest, HugeOffsetIsShiftInvariantExactly) {
  using T = TypeParam;
  // z and z + c give the same correctly rounded softmax when z + c is exact.
  const std::vector<T> z{1000, 1001, 999};
  const std::vector<T> small{-1, 0, -2};
  const auto a = softmax<T>(z);
  const auto b = softmax<T>(small);
  for (std::size_t i = 0; i < z.size(); ++i) EXPECT_EQ(a[i].value, b[i].value);
  EXPECT_EQ(logsumexp<T>(z).value, static_cast<T>(1001 + std::log1p(std::exp(-1.0L) + std::exp(-2.0L))));
}

TYPED_TEST(OracleTest, SubnormalProbabilitiesAreKept) {
  using T = TypeParam;
  // exp(-gap) lies between the smallest subnormal and the smallest normal.
  const T gap = std::is_same_v<T, float> ? T(100) : T(720);
  const std::vector<T> z{0, -gap};
  const Exact<T> tiny = softmax<T>(z)[1];
  EXPECT_GT(tiny.value, T(0));
  EXPECT_LT(tiny.value, std::numeric_limits<T>::min());
  const long double expected = std::exp(-static_cast<long double>(gap)) / (1 + std::exp(-static_cast<long double>(gap)));
  EXPECT_LE(std::fabs(static_cast<long double>(tiny.value) - expected),
            static_cast<long double>(std::numeric_limits<T>::denorm_min()) / 2);
}

TYPED_TEST(OracleTest, CrossEntropyOverflowsOnlyWhenTheExactValueDoes) {
  using T = TypeParam;
  const T big = std::numeric_limits<T>::max();
  const std::vector<T> z{big, -big};
  EXPECT_EQ(cross_entropy<T>(z, 1).value, kInf<T>);       // 2·max overflows
  EXPECT_EQ(cross_entropy<T>(z, 0).value, T(0));          // log1p(exp(-2 max)) rounds to 0
  EXPECT_EQ(logsumexp<T>(std::vector<T>{big, big}).value, big);  // max + log 2 rounds to max
}

TYPED_TEST(OracleTest, UlpDistance) {
  using T = TypeParam;
  const T one = 1;
  const T next = std::nextafter(one, T(2));
  EXPECT_EQ(ulp_distance(one, next), 1.0);
  EXPECT_EQ(ulp_distance(T(0), T(-0.0)), 0.0);
  const T dmin = std::numeric_limits<T>::denorm_min();
  EXPECT_EQ(ulp_distance(-dmin, dmin), 2.0);
  EXPECT_EQ(ulp_distance(std::numeric_limits<T>::min(), std::nextafter(std::numeric_limits<T>::min(), T(0))), 1.0);
  EXPECT_EQ(ulp_distance(kInf<T>, kInf<T>), 0.0);
  EXPECT_TRUE(std::isinf(ulp_distance(kInf<T>, std::numeric_limits<T>::max())));
  const T nan = std::numeric_limits<T>::quiet_NaN();
  EXPECT_EQ(ulp_distance(nan, nan), 0.0);
  EXPECT_TRUE(std::isinf(ulp_distance(nan, one)));
}

TYPED_TEST(OracleTest, UlpErrorOfTheCorrectRoundingIsAtMostHalf) {
  using T = TypeParam;
  const std::vector<T> z{T(0.3), T(-1.7), T(2.9), T(0.001)};
  for (const Exact<T>& p : softmax<T>(z)) {
    EXPECT_LE(ulp_error(p.value, p), 0.5);
    EXPECT_GT(ulp_error(std::nextafter(p.value, T(2)), p), 0.5);
    EXPECT_LE(ulp_error(std::nextafter(p.value, T(2)), p), 1.5);
  }
}

TYPED_TEST(OracleTest, BoundsCoverTheStandardAlgorithm) {
  using T = TypeParam;
  // The tutorial's algorithm in T, written out here, stays within the bound of its own analysis.
  const std::vector<T> z{T(3.5), T(-20.25), T(0.125), T(7.75), T(7.5), T(-1e3)};
  T m = z[0];
  for (T v : z) m = std::max(m, v);
  std::vector<T> e(z.size());
  T s = 0;
  for (std::size_t i = 0; i < z.size(); ++i) s += e[i] = std::exp(z[i] - m);
  const auto exact = softmax<T>(z);
  const auto bound = softmax_bound<T>(z, exact);
  for (std::size_t i = 0; i < z.size(); ++i) {
    EXPECT_LE(ulp_error(e[i] / s, exact[i]), bound[i]) << i;
    EXPECT_GT(bound[i], 0.5) << "a bound below the final rounding cannot hold";
  }
  const Exact<T> lse = logsumexp<T>(z);
  EXPECT_LE(ulp_error(m + std::log(s), lse), logsumexp_bound<T>(z, lse));
}

// log_softmax(z)_0 = (z_0 - max) - log1p(rest) where z_0 - max is exactly a float32 midpoint and
// log1p(rest) ≈ 1e-25: the rounding goes away from the midpoint, and hi + lo must still be the
// exact value: both neighbours are within a hair of 0.5 ULP (once this read 0.625: hi + lo had
// moved by the substitute term).
TEST(OracleExactValue, NegligibleTermNearAMidpoint) {
  const std::vector<float> z{-0x1.1d45d6p+5f, 0x1.d69bd8p+4f, -0x1.ac0342p+4f, -0x1.9feccp+4f, -0x1.e997c6p+4f};
  const Exact<float> e = log_softmax<float>(z)[0];
  EXPECT_EQ(e.value, -0x1.0449e2p+6f);
  EXPECT_LE(ulp_error(e.value, e), 0.5);
  EXPECT_NEAR(ulp_error(-0x1.0449ep+6f, e), 0.5, 1e-6);
}

// z_0 - max = -(2^27 + 0x1489·2^-26) is exactly a midpoint between two doubles, and the other
// term of the sum is exp(-2^27) ≈ 2^-1.9e8: no affordable precision separates them, yet the
// exact value lies beyond the midpoint and rounds away from it (to ...a45, not the even ...a44).
TEST(OracleExactValue, MidpointPlusAstronomicallySmallTerm) {
  const std::vector<double> z{-0x1.489p-14, 0x1p+27};
  const auto ls = log_softmax<double>(z);
  EXPECT_EQ(ls[0].value, -0x1.0000000000a45p+27);
  EXPECT_EQ(ls[1].value, -0.0);
  EXPECT_TRUE(std::signbit(ls[1].value));
}

// Reduced formats (binary16, bfloat16) through the FloatFormat overloads. Every expected value below
// was derived apart from the oracle: mpmath at 300 bits gives the exact value scaled by the ULP of
// the format at that value, and the rounding of that scaled value is read off by hand (noted
// beside each). IEEE binary16: p = 11, normals from 2^-14, max 65504, subnormals k · 2^-24;
// bfloat16: p = 8, normals from 2^-126, subnormals k · 2^-133.
std::vector<float> floats(std::initializer_list<float> v) { return v; }

TEST(ReducedFormats, SoftmaxIsRoundedToTheFormat) {
  // softmax(1, 2, 3) = 0.0900306, 0.2447285, 0.6652410; scaled by the binary16 ULPs 2^-14, 2^-13,
  // 2^-11: 1475.06, 2004.82, 1362.41 -> 1475, 2005, 1362.
  const auto p = softmax(floats({1, 2, 3}), kBinary16);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].value, 1475 * 0x1p-14f);
  EXPECT_EQ(p[1].value, 2005 * 0x1p-13f);
  EXPECT_EQ(p[2].value, 1362 * 0x1p-11f);
  for (const auto& e : p) EXPECT_FALSE(e.exact);
  // hi + lo carries the exact value far enough for fractional ULPs: |1362 - 1362.41348|.
  EXPECT_NEAR(ulp_error(p[2].value, p[2], kBinary16), 0.4134774, 1e-6);
  EXPECT_NEAR(p[2].hi + p[2].lo, 0.66524095577482188953, 1e-9);
  // bfloat16: 1/3 = 1.0101010|1010...·2^-2 rounds up to 1.0101011·2^-2 = 0x1.56p-2.
  for (const auto& e : softmax(floats({7, 7, 7}), kBFloat16)) EXPECT_EQ(e.value, 0x1.56p-2f);
  // Four ties: exactly 1/4 in any format.
  for (const auto& e : softmax(floats({-3, -3, -3, -3}), kBinary16)) {
    EXPECT_EQ(e.value, 0.25f);
    EXPECT_TRUE(e.exact);
  }
}

TEST(ReducedFormats, HugeOffsetOnTheBinary16Grid) {
  // 1000 + {0, 0.5, -0.5} (binary16 values: the ULP at 1000 is 0.5) has the softmax of
  // {0, 0.5, -0.5}: 0.3071959, 0.5064804, 0.1863237, scaled by 2^-12, 2^-11, 2^-13:
  // 1258.27, 1037.27, 1526.36.
  const auto p = softmax(floats({1000, 1000.5f, 999.5f}), kBinary16);
  EXPECT_EQ(p[0].value, 1258 * 0x1p-12f);
  EXPECT_EQ(p[1].value, 1037 * 0x1p-11f);
  EXPECT_EQ(p[2].value, 1526 * 0x1p-13f);
}

TEST(ReducedFormats, MidpointPlusTinyTermRoundsAwayFromTheTie) {
  // binary16: z_1 - max = -2000.5, exactly the midpoint of -2000 and -2001 (ULP 1 in [1024, 2048));
  // log_softmax_1 = -2000.5 - log1p(e^-2000.5) lies just beyond it: -2001, where ties-to-even of
  // the midpoint alone would give -2000. log_softmax_0 = -log1p(e^-2000.5) rounds to -0.
  const auto h = log_softmax(floats({2000, -0.5f}), kBinary16);
  EXPECT_EQ(h[1].value, -2001.0f);
  EXPECT_EQ(h[0].value, 0.0f);
  EXPECT_TRUE(std::signbit(h[0].value));
  // bfloat16: -257 is the midpoint of -256 and -258 (ULP 2 in [256, 512)); the even neighbour is
  // -256, the correct rounding of -257 - log1p(e^-257) is -258.
  const auto b = log_softmax(floats({256, -1}), kBFloat16);
  EXPECT_EQ(b[1].value, -258.0f);
  EXPECT_EQ(b[0].value, 0.0f);
  EXPECT_TRUE(std::signbit(b[0].value));
}

TEST(ReducedFormats, SoftmaxJustBelowAMidpoint) {
  // Two logits d = 3 · 2^-10 apart: p = sigma(d) = 1/2 + d/4 - d^3/48 + ... = 1025.49999893 · 2^-11,
  // just below the midpoint of 1025 · 2^-11 (odd) and 1026 · 2^-11 (even): 1025 · 2^-11, where a
  // tie would go to 1026. The other is 1 - p = 2045.0000021 · 2^-12: 2045 · 2^-12.
  const auto h = softmax(floats({0, 3 * 0x1p-10f}), kBinary16);
  EXPECT_EQ(h[1].value, 1025 * 0x1p-11f);
  EXPECT_EQ(h[0].value, 2045 * 0x1p-12f);
  // bfloat16, d = 3 · 2^-7: sigma(d) = 129.49993 · 2^-8 -> 129 · 2^-8 (a tie would give 130).
  EXPECT_EQ(softmax(floats({-1, -1 + 3 * 0x1p-7f}), kBFloat16)[1].value, 129 * 0x1p-8f);
}

TEST(ReducedFormats, LogSoftmaxOverflowsBinary16ButSoftmaxCannot) {
  constexpr float kMax = 65504, kInfF = std::numeric_limits<float>::infinity();
  // -131008 - tiny is far beyond -65504: -inf.
  const auto wide = log_softmax(floats({kMax, -kMax}), kBinary16);
  EXPECT_EQ(wide[1].value, -kInfF);
  EXPECT_EQ(wide[0].value, 0.0f);
  // The overflow threshold of binary16 is 65504 + 16 (half an ULP of 2^15..2^16): z_1 - max =
  // -65520 exactly, minus a tiny term: beyond it, -inf. One half less (-65519.5): -65504.
  EXPECT_EQ(log_softmax(floats({16, -kMax}), kBinary16)[1].value, -kInfF);
  EXPECT_EQ(log_softmax(floats({15.5f, -kMax}), kBinary16)[1].value, -kMax);
  // Softmax stays in [0, 1]: 1 - e^-131008 rounds to 1, e^-131008 to +0.
  const auto p = softmax(floats({kMax, -kMax}), kBinary16);
  EXPECT_EQ(p[0].value, 1.0f);
  EXPECT_EQ(p[1].value, 0.0f);
  EXPECT_FALSE(std::signbit(p[1].value));
  // bfloat16 has the range of float: -2 · 0x1.fep127 overflows it too.
  EXPECT_EQ(log_softmax(floats({0x1.fep127f, -0x1.fep127f}), kBFloat16)[1].value, -kInfF);
}

TEST(ReducedFormats, SubnormalResultsOfTheFormat) {
  // binary16: e^-12 / (1 + e^-12) = 6.1441746e-6 = 103.082 · 2^-24: the subnormal 103 · 2^-24
  // (a float normal, a binary16 subnormal); log_softmax_0 = -log1p(e^-12) = -103.082 · 2^-24.
  const auto p = softmax(floats({0, -12}), kBinary16);
  EXPECT_EQ(p[1].value, 103 * 0x1p-24f);
  EXPECT_EQ(p[0].value, 1.0f);  // 1 - 6.1e-6: the binary16 below 1 is 1 - 2^-11
  EXPECT_NEAR(ulp_error(p[1].value, p[1], kBinary16), 0.0821444, 1e-6);
  const auto l = log_softmax(floats({0, -12}), kBinary16);
  EXPECT_EQ(l[0].value, -103 * 0x1p-24f);
  EXPECT_EQ(l[1].value, -12.0f);  // -12 - 6.1e-6: ULP 2^-7 at 12
  // Half the smallest subnormal is 2^-25 = e^-17.33: e^-17 (0.695 · 2^-24) rounds up to 2^-24,
  // e^-17.5 (0.421 · 2^-24) to +0.
  EXPECT_EQ(softmax(floats({0, -17}), kBinary16)[1].value, 0x1p-24f);
  const float zero = softmax(floats({0, -17.5f}), kBinary16)[1].value;
  EXPECT_EQ(zero, 0.0f);
  EXPECT_FALSE(std::signbit(zero));
  // bfloat16: e^-90 / (1 + e^-90) = 8.922 · 2^-133 -> 9 · 2^-133; log_softmax_0 its negative.
  EXPECT_EQ(softmax(floats({0, -90}), kBFloat16)[1].value, 9 * 0x1p-133f);
  EXPECT_EQ(log_softmax(floats({0, -90}), kBFloat16)[0].value, -9 * 0x1p-133f);
}

TEST(ReducedFormats, SpecialValueRowsAsInFloat) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const auto p = softmax(floats({inf, 1, inf}), kBinary16);
  EXPECT_EQ(p[0].value, 0.5f);
  EXPECT_EQ(p[1].value, 0.0f);
  for (const auto& e : softmax(floats({1, nan}), kBFloat16)) EXPECT_TRUE(std::isnan(e.value));
  for (const auto& e : log_softmax(floats({-inf, -inf}), kBinary16)) EXPECT_EQ(e.value, -inf);
  // -log 3 = -1.0986123 = -1.0001100100111..·2^0 in binary16 (ULP 2^-10): -1125 · 2^-10.
  EXPECT_EQ(log_softmax(floats({inf, inf, inf, -inf}), kBinary16)[0].value, -1125 * 0x1p-10f);
}

TEST(ReducedFormats, EntriesMustBeValuesOfTheFormat) {
  EXPECT_THROW(softmax(floats({0.1f}), kBinary16), std::invalid_argument);
  EXPECT_THROW(log_softmax(floats({0, 1 + 0x1p-8f}), kBFloat16), std::invalid_argument);
  EXPECT_NO_THROW(log_softmax(floats({0, 1 + 0x1p-8f}), kBinary16));  // 1 + 2^-8 is a binary16
  EXPECT_THROW(softmax(floats({65536.0f}), kBinary16), std::invalid_argument);  // beyond 65504
  EXPECT_NO_THROW(softmax(floats({65536.0f}), kBFloat16));
  EXPECT_THROW(softmax(floats({0x1p-25f, 0}), kBinary16), std::invalid_argument);  // below 2^-24
  EXPECT_THROW(log_softmax(floats({0x1p-134f}), kBFloat16), std::invalid_argument);
  EXPECT_NO_THROW(softmax(floats({0x1p-24f, 65504.0f, -0.0f}), kBinary16));
}

// The certifier runs the oracle on several threads at once, each at its own working precision
// (f16 rows start at 42 bits, f64 rows at 126). Boost 1.74's mpfi_float shared one default
// precision between threads, so a thread deciding f16 outputs made another's f64 temporaries at
// 42 bits: its enclosures widened, its Ziv loop retried (an f64 large_n row took 16 s instead of
// 0.7) and its outputs' hi and lo moved from run to run. An f64 row decided while another thread
// decides f16 rows must come out as it does alone, with as many retries.
TEST(Threads, AnotherThreadsWorkingPrecisionDoesNotReachThisOnes) {
  std::vector<double> z(300);
  for (std::size_t i = 0; i < z.size(); ++i) z[i] = std::sin(0.7 * static_cast<double>(i)) * 4;
  const ZivStats before = ziv_stats();
  const std::vector<Exact<double>> alone = softmax<double>(z);
  const std::uint64_t retries_alone = ziv_stats().retries - before.retries;

  std::atomic<bool> stop{false};
  std::thread f16([&] {
    std::vector<float> row(64);
    for (std::size_t k = 0; !stop; ++k) {
      for (std::size_t i = 0; i < row.size(); ++i) row[i] = static_cast<float>((i * 7 + k) % 23) * 0.25f;
      (void)softmax(row, kBinary16);
    }
    release_thread_caches();
  });
  for (int repeat = 0; repeat < 10; ++repeat) {
    const ZivStats start = ziv_stats();
    const std::vector<Exact<double>> now = softmax<double>(z);
    EXPECT_EQ(ziv_stats().retries - start.retries, retries_alone);
    for (std::size_t i = 0; i < z.size(); ++i) {
      ASSERT_EQ(now[i].value, alone[i].value) << "entry " << i;
      ASSERT_EQ(now[i].hi, alone[i].hi) << "entry " << i;
      ASSERT_EQ(now[i].lo, alone[i].lo) << "entry " << i;
    }
  }
  stop = true;
  f16.join();
}

}  // namespace
}  // namespace softcert::oracle

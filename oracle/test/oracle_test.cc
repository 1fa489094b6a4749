// The oracle's own behaviour: exactness flags, special values of DESIGN.md §2, rounding at the
// edges of the format (subnormals, overflow), ULP arithmetic, and that the bounds bound.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
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

}  // namespace
}  // namespace softcert::oracle

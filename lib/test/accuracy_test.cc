// A rough sanity check of `accurate` against a long double reference (the real oracle comparison
// is properties/test/oracle_agreement_test.cc), and the cases `accurate` exists for: results that
// a working-precision algorithm gets wrong, checked where the right answer is a simple fact.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "softcert/implementation.hpp"

namespace softcert::test {
namespace {

// |computed - ref| in ULPs of T at ref (the ULP of a subnormal: the smallest subnormal).
template <typename T>
long double ulps(T computed, long double ref) {
  if (std::isnan(computed) || std::isnan(ref)) return std::isnan(computed) && std::isnan(ref) ? 0 : INFINITY;
  if (std::isinf(ref) || std::isinf(computed)) return computed == ref ? 0 : INFINITY;
  using L = std::numeric_limits<T>;
  const int e = ref == 0 ? L::min_exponent - 1 : std::max(std::ilogb(ref), L::min_exponent - 1);
  return std::fabs(static_cast<long double>(computed) - ref) / std::ldexp(1.0L, e - L::digits + 1);
}

// The reference: the stable algorithm in long double, with log1p of the sum without the max's
// own term, as accurate does; its own error is some 2^-60 relative, far below an ULP of f32.
struct Reference {
  std::vector<long double> p, log_p;
  long double lse;
};
template <typename T>
Reference reference(const std::vector<T>& z) {
  std::size_t k = 0;
  for (std::size_t i = 1; i < z.size(); ++i) if (z[i] > z[k]) k = i;
  const long double m = z[k];
  long double rest = 0;
  for (std::size_t i = 0; i < z.size(); ++i) if (i != k) rest += std::exp(static_cast<long double>(z[i]) - m);
  const long double log_sum = std::log1p(rest);
  Reference r;
  for (T zi : z) {
    r.log_p.push_back(-((m - zi) + log_sum));
    r.p.push_back(std::exp(static_cast<long double>(zi) - m) / (1 + rest));
  }
  r.lse = m + log_sum;
  return r;
}

template <typename T>
class Accuracy : public ::testing::Test {};
using Types = ::testing::Types<float, double>;
TYPED_TEST_SUITE(Accuracy, Types);

TYPED_TEST(Accuracy, AccurateIsWithinOneUlpOfALongDoubleReference) {
  using T = TypeParam;
  if constexpr (std::numeric_limits<long double>::digits < std::numeric_limits<T>::digits + 10) {
    GTEST_SKIP() << "long double is not wide enough here to judge " << dtype_name<T>();
  } else {
    const TypedKernels<T>& k = find_builtin("accurate")->kernels<T>();
    std::mt19937_64 rng(2024);
    std::normal_distribution<double> normal(0, 1);
    long double worst = 0;
    std::string worst_what;
    auto check = [&](const char* what, T computed, long double ref) {
      const long double e = ulps(computed, ref);
      if (e > worst) worst = e, worst_what = what;
      EXPECT_LE(e, 1.0L) << what << ": " << computed << " vs " << static_cast<double>(ref);
    };
    for (int row = 0; row < 3000; ++row) {
      // Spreads from ties-close to wide, offsets from 0 to 1e4, n from 1 to 40.
      const std::size_t n = 1 + rng() % 40;
      const double spread = std::ldexp(1.0, static_cast<int>(rng() % 12) - 4);
      const double offset = row % 3 == 0 ? 1e4 : row % 3 == 1 ? -30 : 0;
      std::vector<T> z(n);
      for (T& v : z) v = static_cast<T>(offset + spread * normal(rng));
      const Reference r = reference(z);
      std::vector<T> y(n), lse(1), ce(1), sig(n);
      const int64_t label = static_cast<int64_t>(rng() % n);
      ASSERT_EQ(k.softmax(z.data(), y.data(), 1, n), SOFTCERT_OK);
      for (std::size_t i = 0; i < n; ++i) check("softmax", y[i], r.p[i]);
      ASSERT_EQ(k.log_softmax(z.data(), y.data(), 1, n), SOFTCERT_OK);
      for (std::size_t i = 0; i < n; ++i) check("log_softmax", y[i], r.log_p[i]);
      ASSERT_EQ(k.logsumexp(z.data(), lse.data(), 1, n), SOFTCERT_OK);
      check("logsumexp", lse[0], r.lse);
      ASSERT_EQ(k.cross_entropy(z.data(), &label, ce.data(), 1, n), SOFTCERT_OK);
      check("cross_entropy", ce[0], -r.log_p[label]);
      ASSERT_EQ(k.sigmoid(z.data(), sig.data(), n), SOFTCERT_OK);
      for (std::size_t i = 0; i < n; ++i) {
        const long double x = z[i];
        check("sigmoid", sig[i], x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x)));
      }
    }
    std::cout << dtype_name<T>() << " accurate: worst " << static_cast<double>(worst) << " ULP (" << worst_what
              << ") against long double on 3000 rows\n";
  }
}

// (z_i - max) exact in the wide type can sit exactly on a rounding midpoint of T; log_softmax is
// that minus a tiny positive log1p(rest), so the exact value lies just beyond the midpoint, away
// from zero. An algorithm that rounds the wide sum first lands on the midpoint and rounds it to
// even, toward zero: one ULP off. Here max = 2^7 (f32) or 2^10 (f64), the other logit is minus
// half an ULP of max, and rest = e^-(max + ...) is astronomically small but positive.
TYPED_TEST(Accuracy, AccurateRoundsOnceAcrossAMidpoint) {
  using T = TypeParam;
  const int e = sizeof(T) == sizeof(float) ? 7 : 10;
  const T big = std::ldexp(T(1), e);
  const T half_ulp = std::ldexp(T(1), e - std::numeric_limits<T>::digits);  // half an ULP of 2^e
  const std::vector<T> z{big, -half_ulp};
  const T beyond = std::nextafter(-big, -std::numeric_limits<T>::infinity());  // -(2^e + ulp)
  const TypedKernels<T>& k = find_builtin("accurate")->kernels<T>();
  std::vector<T> y(2), ce(1);
  ASSERT_EQ(k.log_softmax(z.data(), y.data(), 1, 2), SOFTCERT_OK);
  EXPECT_EQ(y[1], beyond) << std::hexfloat << y[1];
  const int64_t label = 1;
  ASSERT_EQ(k.cross_entropy(z.data(), &label, ce.data(), 1, 2), SOFTCERT_OK);
  EXPECT_EQ(ce[0], -beyond) << std::hexfloat << ce[0];
}

// Probabilities deep in the subnormal range keep their bits: softmax of {0, x} with x - 0 a
// power-of-two multiple of ln 2 is not representable, but 2^-k / (1 + 2^-k) for a k that makes it
// subnormal is the subnormal 2^-k rounded (1 + 2^-k is 1 to far below an ULP of the result).
TYPED_TEST(Accuracy, AccurateKeepsSubnormalProbabilities) {
  using T = TypeParam;
  const TypedKernels<T>& k = find_builtin("accurate")->kernels<T>();
  const int min_exp = std::numeric_limits<T>::min_exponent - 1;  // -126 or -1022
  for (int below : {3, 10, 20}) {
    // z1 = log(2^(min_exp - below) · (1 + 3·2^-8)): a subnormal probability with 8 significant
    // bits; log1p's and log's rounding move it by far less than half a subnormal ULP.
    const long double target = std::ldexp(1.0L + 3.0L / 256, min_exp - below);
    const T z1 = static_cast<T>(std::log(target));
    const std::vector<T> z{T(0), z1};
    std::vector<T> y(2);
    ASSERT_EQ(k.softmax(z.data(), y.data(), 1, 2), SOFTCERT_OK);
    const long double exact = std::exp(static_cast<long double>(z1));  // / (1 + tiny)
    EXPECT_EQ(y[1], static_cast<T>(exact)) << "below " << below << ": " << std::hexfloat << y[1];
    EXPECT_EQ(y[0], T(1));
  }
}

}  // namespace
}  // namespace softcert::test

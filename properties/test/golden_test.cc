// Golden tests: every worked example and exercise of the tutorial (seed/softmax-tutorial.txt),
// on the oracle and on every lib algorithm, in f32 and f64, to the digits the tutorial prints.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "softcert/implementation.hpp"
#include "softcert/oracle.hpp"
#include "softcert/properties/golden.hpp"

namespace softcert {
namespace {

template <typename T>
std::vector<T> values(const std::vector<oracle::Exact<T>>& exact) {
  std::vector<T> v;
  for (const auto& e : exact) v.push_back(e.value);
  return v;
}

template <typename T>
class Golden : public ::testing::Test {};
using Types = ::testing::Types<float, double>;
TYPED_TEST_SUITE(Golden, Types);

// Every example of the tutorial, on the oracle and on every lib algorithm that provides it.
TYPED_TEST(Golden, TutorialExamplesToThePrintedDigits) {
  using T = TypeParam;
  for (const properties::GoldenExample& e : properties::tutorial_examples()) {
    const std::vector<T> exact = properties::oracle_golden<T>(e);
    ASSERT_EQ(exact.size(), e.printed.size()) << e.name;
    for (std::size_t i = 0; i < exact.size(); ++i) {
      EXPECT_TRUE(properties::matches_printed(exact[i], e.printed[i], e.decimals))
          << "oracle, " << e.name << ": " << exact[i] << " vs " << e.printed[i];
    }
    std::size_t checked = 0;
    for (const Implementation& impl : builtin_implementations()) {
      const properties::GoldenResult r = properties::check_golden<T>(impl, e);
      if (r.status == properties::GoldenResult::Status::declined) continue;
      ++checked;
      EXPECT_EQ(r.status, properties::GoldenResult::Status::pass) << impl.name << ", " << e.name << ": " << r.detail;
    }
    EXPECT_GT(checked, 0u) << "no lib algorithm computes " << e.name;
  }
}

// Worked example 1 goes on: p1/p2 = exp(z1 - z2) = e ≈ 2.718.
TYPED_TEST(Golden, RatioOfProbabilitiesIsExpOfTheDifference) {
  using T = TypeParam;
  const std::vector<T> z{2, 1, 0};
  const auto p = values(oracle::softmax<T>(z));
  EXPECT_TRUE(properties::matches_printed(double(p[0]) / double(p[1]), 2.718, 3));
  // Each correctly rounded p_i = P_i (1 + δ_i), |δ_i| <= u, so the ratio is e (1 + δ1) / (1 + δ2):
  // within e · 2u / (1 - u) of e, plus the rounding of the double division.
  const double u = std::numeric_limits<T>::epsilon() / 2;
  const double e = std::exp(1.0);
  EXPECT_NEAR(double(p[0]) / double(p[1]), e, e * 2 * u / (1 - u) + e * std::numeric_limits<double>::epsilon());
}

// Worked example 2 goes on: the shifted logits (-1, 0, -2) give the same probabilities, and the
// exercise 1 uniform distribution is exact, in the oracle and in every lib algorithm.
TYPED_TEST(Golden, ShiftInvarianceAndExactUniform) {
  using T = TypeParam;
  EXPECT_EQ(values(oracle::softmax<T>(std::vector<T>{-1, 0, -2})),
            values(oracle::softmax<T>(std::vector<T>{1000, 1001, 999})));
  const std::vector<T> zeros{0, 0, 0, 0};
  for (const auto& e : oracle::softmax<T>(zeros)) EXPECT_TRUE(e.exact && e.value == T(0.25));
  for (const Implementation& impl : builtin_implementations()) {
    if (!impl.kernels<T>().softmax) continue;
    T p[4];
    ASSERT_EQ(impl.kernels<T>().softmax(zeros.data(), p, 1, 4), SOFTCERT_OK);
    for (T v : p) EXPECT_EQ(v, T(0.25)) << impl.name;
  }
}

// Worked example 2: naively, exp(1000) overflows float32 and the ratio is inf / inf = NaN.
TEST(Golden, NaiveSoftmaxOverflowsInFloat32) {
  const float z[] = {1000, 1001, 999};
  float s = 0;
  for (float v : z) s += std::exp(v);
  EXPECT_TRUE(std::isinf(s));
  EXPECT_TRUE(std::isnan(std::exp(z[0]) / s));
}

// K = 2: softmax([a, b])_0 = σ(a - b). With a - b exact the two exact values are the same real
// number, so the oracle's roundings are identical; lib's softmax and sigmoid agree within 1 ULP.
TYPED_TEST(Golden, TwoClassSoftmaxIsSigmoidOfTheDifference) {
  using T = TypeParam;
  const std::pair<T, T> pairs[] = {{2, 1}, {T(0.75), T(-3.5)}, {-7, 4}, {30, 0}};
  for (auto [a, b] : pairs) {
    const std::vector<T> z{a, b};
    EXPECT_EQ(oracle::softmax<T>(z)[0].value, oracle::sigmoid<T>(a - b).value);
    for (const Implementation& impl : builtin_implementations()) {
      const auto& k = impl.kernels<T>();
      if (!k.softmax || !k.sigmoid) continue;
      T p[2], s;
      const T diff = a - b;
      ASSERT_EQ(k.softmax(z.data(), p, 1, 2), SOFTCERT_OK);
      ASSERT_EQ(k.sigmoid(&diff, &s, 1), SOFTCERT_OK);
      EXPECT_LE(oracle::ulp_distance(p[0], s), 1.0) << impl.name << " a=" << a << " b=" << b;
    }
  }
}

// "If one logit is much larger than the others, softmax becomes very peaky": z = (10, 9, 0)
// puts almost all mass on the first two classes and the third near 0.
TYPED_TEST(Golden, LargeLogitsArePeaky) {
  using T = TypeParam;
  const std::vector<T> z{10, 9, 0};
  const auto p = values(oracle::softmax<T>(z));
  EXPECT_GT(double(p[0]) + double(p[1]), 0.9999);
  EXPECT_LT(p[2], T(1e-4));
}

}  // namespace
}  // namespace softcert

// Oracle agreement of every lib algorithm: for each function, type and regime, the ULP error of
// every output against the oracle stays within the a-priori bound of the algorithm
// (oracle/src/bounds.cc); `accurate` stays within 1 ULP on normal-range outputs for the functions
// it promises it for; and a naive exp(z)/Σexp(z) (the negative control) is caught.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <limits>
#include <tuple>

#include "softcert/properties/agreement.hpp"

namespace softcert {
// Readable parameter names in test listings (ctest shows them).
void PrintTo(Function f, std::ostream* os) { *os << function_name(f); }
namespace properties {
void PrintTo(Regime r, std::ostream* os) { *os << regime_name(r); }
}  // namespace properties
}  // namespace softcert

namespace softcert::properties {
namespace {

// Cases per (function, type, regime); large rows are few, since each costs ~10^5 oracle exps.
std::size_t cases_for(Regime r) { return r == Regime::large_n ? 1 : 40; }

// The functions `accurate` guarantees <= 1 ULP for, on outputs in the normal range.
bool faithful_promise(Function f) {
  return f == Function::softmax || f == Function::log_softmax || f == Function::logsumexp ||
         f == Function::cross_entropy || f == Function::sigmoid;
}

using Param = std::tuple<Function, Regime>;

class OracleAgreement : public ::testing::TestWithParam<Param> {
 protected:
  template <typename T>
  void check() {
    const auto [function, regime] = GetParam();
    std::vector<Case<T>> cases;
    for (std::size_t i = 0; i < cases_for(regime); ++i) {
      cases.push_back(make_case<T>(function, regime, 0x5eed0000u + i));
    }
    bool measured = false;
    for (const Implementation& impl : builtin_implementations()) {
      if (!provides<T>(impl, function)) continue;
      measured = true;
      const Agreement a = measure<T>(impl, cases, bound_model_for(impl.name));
      const std::string id = kernel_id<T>(impl, function);
      std::cout << fmt::format("{:<40} {:<17} max {:>9.3g} ULP, normal-range {:>9.3g} ULP, "
                               "{:.3g} of the bound\n",
                               id, regime_name(regime), a.max_ulp, a.max_ulp_normal, a.max_bound_ratio);
      EXPECT_EQ(a.declined, 0u) << id;
      EXPECT_EQ(a.over_bound, 0u) << id << " worst: " << a.worst;
      if ((impl.name == "accurate" || impl.name == "simd") && sizeof(T) == sizeof(float) && faithful_promise(function)) {
        EXPECT_LE(a.max_ulp_normal, 1.0) << id << " worst: " << a.worst;
      }
    }
    EXPECT_TRUE(measured) << "no lib algorithm provides " << function_name(function);
  }
};

TEST_P(OracleAgreement, F32) { check<float>(); }
TEST_P(OracleAgreement, F64) { check<double>(); }

std::vector<Param> all_params() {
  std::vector<Param> params;
  for (Function f : kAllFunctions) {
    for (Regime r : kAllRegimes) {
      if (applicable(f, r)) params.emplace_back(f, r);
    }
  }
  return params;
}

INSTANTIATE_TEST_SUITE_P(AllFunctions, OracleAgreement, ::testing::ValuesIn(all_params()),
                         [](const ::testing::TestParamInfo<Param>& info) {
                           return std::string(function_name(std::get<0>(info.param))) + "_" +
                                  std::string(regime_name(std::get<1>(info.param)));
                         });

// The negative control: exp(z_i) / Σ exp(z_j) in float32 with no max subtraction. It is not a
// lib algorithm; it exists to show that the agreement check catches overflow at logits ≈ 100.
int naive_softmax_f32(const float* x, float* y, size_t rows, size_t n) {
  for (size_t r = 0; r < rows; ++r) {
    float s = 0;
    for (size_t i = 0; i < n; ++i) s += std::exp(x[r * n + i]);
    for (size_t i = 0; i < n; ++i) y[r * n + i] = std::exp(x[r * n + i]) / s;
  }
  return 0;
}

TEST(NegativeControl, NaiveSoftmaxIsCaught) {
  Implementation naive;
  naive.name = "naive";
  naive.f32.softmax = naive_softmax_f32;
  std::vector<Case<float>> cases;
  for (std::uint64_t i = 0; i < 20; ++i) cases.push_back(make_case<float>(Function::softmax, Regime::near_overflow, i));
  const Agreement a = measure<float>(naive, cases, {});
  EXPECT_GT(a.over_bound, 0u);
  EXPECT_TRUE(std::isinf(a.max_ulp)) << "overflow gives inf/NaN outputs";
  std::cout << "naive f32 softmax, near_overflow: " << a.worst << "\n";

  // A single row at logits ≈ 100 is enough.
  Case<float> c;
  c.function = Function::softmax;
  c.x = {100.0f, 99.0f, 98.5f};
  c.exact = oracle::softmax<float>(c.x);
  const Agreement one = measure<float>(naive, std::span<const Case<float>>(&c, 1), {});
  EXPECT_EQ(one.over_bound, 3u);
  // The same row is fine for every lib algorithm.
  for (const Implementation& impl : builtin_implementations()) {
    if (!impl.f32.softmax) continue;
    EXPECT_EQ(measure<float>(impl, std::span<const Case<float>>(&c, 1), bound_model_for(impl.name)).over_bound, 0u)
        << impl.name;
  }
}

}  // namespace
}  // namespace softcert::properties

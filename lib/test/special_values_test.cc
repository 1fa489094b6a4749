// DESIGN.md §2's special values, strict profile, in every lib algorithm and both types.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "kernel_calls.hpp"

namespace softcert::test {
namespace {

template <typename T>
class SpecialValues : public ::testing::Test {
 protected:
  static constexpr T inf = std::numeric_limits<T>::infinity();
  static constexpr T nan = std::numeric_limits<T>::quiet_NaN();

  // Runs f on one row for every algorithm providing it; check(name, outputs).
  template <typename Check>
  void each(Function f, std::vector<T> z, Check check, int64_t label = 0, std::vector<uint8_t> keep = {}, T t = 1) {
    if (keep.empty()) keep.assign(z.size(), 1);
    for (const Implementation& impl : builtin_implementations()) {
      if (!provides<T>(impl, f)) continue;
      std::vector<T> y(outputs_per_row(f, z.size()), T(-999));
      RowCall<T> c{z.data(), y.data(), 1, z.size(), &label, keep.data(), z.data(), t};
      ASSERT_EQ(call(impl.kernels<T>(), f, c), SOFTCERT_OK) << kernel_id<T>(impl, f);
      check(kernel_id<T>(impl, f), y);
    }
  }
};
using Types = ::testing::Types<float, double>;
TYPED_TEST_SUITE(SpecialValues, Types);

#define EXPECT_BITS_EQ(a, b) EXPECT_TRUE(std::signbit(a) == std::signbit(b) && ((a) == (b) || (std::isnan(a) && std::isnan(b)))) << who << ": " << (a) << " vs " << (b)

TYPED_TEST(SpecialValues, NaNAnywhereMakesTheRowNaN) {
  using T = TypeParam;
  const std::vector<T> z{1, this->nan, -this->inf, this->inf};
  for (Function f : {Function::softmax, Function::log_softmax, Function::logsumexp, Function::softmax_temperature,
                     Function::cross_entropy, Function::cross_entropy_grad, Function::masked_softmax}) {
    this->each(f, z, [](const std::string& who, const std::vector<T>& y) {
      for (T v : y) EXPECT_TRUE(std::isnan(v)) << who << " gave " << v;
    });
  }
}

TYPED_TEST(SpecialValues, PositiveInfinityIsTheLimit) {
  using T = TypeParam;
  const T inf = this->inf;
  const std::vector<T> z{inf, 3, inf, -inf};
  const T half_log = -static_cast<T>(std::log(2.0L));
  this->each(Function::softmax, z, [](const std::string& who, const std::vector<T>& y) {
    EXPECT_BITS_EQ(y[0], T(0.5)); EXPECT_BITS_EQ(y[1], T(0)); EXPECT_BITS_EQ(y[2], T(0.5)); EXPECT_BITS_EQ(y[3], T(0));
  });
  this->each(Function::log_softmax, z, [&](const std::string& who, const std::vector<T>& y) {
    EXPECT_BITS_EQ(y[0], half_log); EXPECT_BITS_EQ(y[1], -inf); EXPECT_BITS_EQ(y[3], -inf);
  });
  this->each(Function::logsumexp, z, [&](const std::string& who, const std::vector<T>& y) { EXPECT_BITS_EQ(y[0], inf); });
  this->each(Function::cross_entropy, z, [&](const std::string& who, const std::vector<T>& y) {
    EXPECT_BITS_EQ(y[0], -half_log);
  }, 0);
  this->each(Function::cross_entropy, z, [&](const std::string& who, const std::vector<T>& y) { EXPECT_BITS_EQ(y[0], inf); }, 1);
  this->each(Function::cross_entropy_grad, z, [&](const std::string& who, const std::vector<T>& y) {
    EXPECT_BITS_EQ(y[0], T(-0.5)); EXPECT_BITS_EQ(y[1], T(0)); EXPECT_BITS_EQ(y[2], T(0.5));
  }, 0);
}

TYPED_TEST(SpecialValues, NegativeInfinityContributesExactlyZero) {
  using T = TypeParam;
  const T inf = this->inf;
  const std::vector<T> z{-inf, T(0.75), -inf};
  this->each(Function::softmax, z, [](const std::string& who, const std::vector<T>& y) {
    EXPECT_BITS_EQ(y[0], T(0)); EXPECT_BITS_EQ(y[1], T(1)); EXPECT_BITS_EQ(y[2], T(0));
  });
  this->each(Function::log_softmax, z, [&](const std::string& who, const std::vector<T>& y) {
    EXPECT_BITS_EQ(y[0], -inf); EXPECT_BITS_EQ(y[1], T(0)); EXPECT_BITS_EQ(y[2], -inf);
  });
  this->each(Function::logsumexp, z, [](const std::string& who, const std::vector<T>& y) { EXPECT_BITS_EQ(y[0], T(0.75)); });
}

TYPED_TEST(SpecialValues, FullyMaskedRowIsZeroNeverNaN) {
  using T = TypeParam;
  const T inf = this->inf;
  const std::vector<T> z{-inf, -inf, -inf};
  this->each(Function::softmax, z, [](const std::string& who, const std::vector<T>& y) {
    for (T v : y) EXPECT_BITS_EQ(v, T(0));
  });
  this->each(Function::softmax_temperature, z, [](const std::string& who, const std::vector<T>& y) {
    for (T v : y) EXPECT_BITS_EQ(v, T(0));
  });
  this->each(Function::log_softmax, z, [&](const std::string& who, const std::vector<T>& y) {
    for (T v : y) EXPECT_BITS_EQ(v, -inf);
  });
  this->each(Function::logsumexp, z, [&](const std::string& who, const std::vector<T>& y) { EXPECT_BITS_EQ(y[0], -inf); });
  this->each(Function::cross_entropy, z, [&](const std::string& who, const std::vector<T>& y) { EXPECT_BITS_EQ(y[0], inf); }, 2);
  this->each(Function::cross_entropy_grad, z, [&](const std::string& who, const std::vector<T>& y) {
    EXPECT_BITS_EQ(y[0], T(0)); EXPECT_BITS_EQ(y[2], T(-1));
  }, 2);
  // masked_softmax with nothing kept, whatever the values (NaN included) at masked positions.
  this->each(Function::masked_softmax, std::vector<T>{1, this->nan, 3}, [](const std::string& who, const std::vector<T>& y) {
    for (T v : y) EXPECT_BITS_EQ(v, T(0));
  }, 0, {0, 0, 0});
  // Partly masked: the kept entries get exactly what softmax of the kept entries alone gives.
  for (const Implementation& impl : builtin_implementations()) {
    const auto& k = impl.kernels<T>();
    if (!k.masked_softmax || !k.softmax) continue;
    const std::vector<T> z{1, this->nan, 3}, kept{1, 3};
    const std::vector<uint8_t> keep{1, 0, 1};
    std::vector<T> y(3), p(2);
    ASSERT_EQ(k.masked_softmax(z.data(), keep.data(), y.data(), 1, 3), SOFTCERT_OK);
    ASSERT_EQ(k.softmax(kept.data(), p.data(), 1, 2), SOFTCERT_OK);
    const std::string who = impl.name;
    EXPECT_BITS_EQ(y[0], p[0]); EXPECT_BITS_EQ(y[1], T(0)); EXPECT_BITS_EQ(y[2], p[1]);
  }
}

TYPED_TEST(SpecialValues, SingleLogit) {
  using T = TypeParam;
  const std::vector<T> z{T(-37.25)};
  this->each(Function::softmax, z, [](const std::string& who, const std::vector<T>& y) { EXPECT_BITS_EQ(y[0], T(1)); });
  this->each(Function::log_softmax, z, [](const std::string& who, const std::vector<T>& y) { EXPECT_BITS_EQ(y[0], T(0)); });
  this->each(Function::logsumexp, z, [](const std::string& who, const std::vector<T>& y) { EXPECT_BITS_EQ(y[0], T(-37.25)); });
  this->each(Function::cross_entropy, z, [](const std::string& who, const std::vector<T>& y) { EXPECT_BITS_EQ(y[0], T(0)); });
}

TYPED_TEST(SpecialValues, ExtremeFiniteLogitsNeverGiveNaN) {
  using T = TypeParam;
  const T big = std::numeric_limits<T>::max();
  const std::vector<T> z{big, -big, big, T(0)};
  for (Function f : {Function::softmax, Function::log_softmax, Function::logsumexp, Function::softmax_temperature,
                     Function::cross_entropy, Function::cross_entropy_grad, Function::masked_softmax}) {
    this->each(f, z, [](const std::string& who, const std::vector<T>& y) {
      for (T v : y) EXPECT_FALSE(std::isnan(v)) << who;
    }, 1);
  }
  this->each(Function::softmax, z, [](const std::string& who, const std::vector<T>& y) {
    EXPECT_BITS_EQ(y[0], T(0.5)); EXPECT_BITS_EQ(y[1], T(0)); EXPECT_BITS_EQ(y[2], T(0.5)); EXPECT_BITS_EQ(y[3], T(0));
  });
}

TYPED_TEST(SpecialValues, TemperatureLimits) {
  using T = TypeParam;
  const std::vector<T> z{1, 3, 3, 2};
  // T -> 0+: the mass splits evenly over the tied maxima.
  this->each(Function::softmax_temperature, z, [](const std::string& who, const std::vector<T>& y) {
    EXPECT_BITS_EQ(y[0], T(0)); EXPECT_BITS_EQ(y[1], T(0.5)); EXPECT_BITS_EQ(y[2], T(0.5)); EXPECT_BITS_EQ(y[3], T(0));
  }, 0, {}, std::numeric_limits<T>::min());
  // T huge: uniform.
  this->each(Function::softmax_temperature, z, [](const std::string& who, const std::vector<T>& y) {
    for (T v : y) EXPECT_BITS_EQ(v, T(0.25));
  }, 0, {}, std::numeric_limits<T>::max());
}

TYPED_TEST(SpecialValues, Sigmoid) {
  using T = TypeParam;
  const std::vector<T> x{this->inf, -this->inf, this->nan, T(0), -std::numeric_limits<T>::max()};
  this->each(Function::sigmoid, x, [](const std::string& who, const std::vector<T>& y) {
    EXPECT_BITS_EQ(y[0], T(1)); EXPECT_BITS_EQ(y[1], T(0)); EXPECT_TRUE(std::isnan(y[2])) << who;
    EXPECT_BITS_EQ(y[3], T(0.5)); EXPECT_BITS_EQ(y[4], T(0));
  });
}

TYPED_TEST(SpecialValues, AttentionRowsAreConvexAndCausal) {
  using T = TypeParam;
  // Two keys with equal scores: each query averages the values it attends.
  const std::vector<T> q{1, 0, 0, 1}, k{0, 0, 0, 0}, v{2, -6, 4, 10};
  for (const Implementation& impl : builtin_implementations()) {
    if (!impl.kernels<T>().attention) continue;
    std::vector<T> out(4);
    ASSERT_EQ(impl.kernels<T>().attention(q.data(), k.data(), v.data(), out.data(), 2, 2, 2, 2, 1), SOFTCERT_OK);
    EXPECT_EQ(out[0], T(2)) << impl.name << ": row 0 attends key 0 only";
    EXPECT_EQ(out[1], T(-6)) << impl.name;
    EXPECT_EQ(out[2], T(3)) << impl.name << ": row 1 averages keys 0 and 1";
    EXPECT_EQ(out[3], T(2)) << impl.name;
    const std::vector<T> qnan{this->nan, 0, 0, 1};
    ASSERT_EQ(impl.kernels<T>().attention(qnan.data(), k.data(), v.data(), out.data(), 2, 2, 2, 2, 1), SOFTCERT_OK);
    EXPECT_TRUE(std::isnan(out[0]) && std::isnan(out[1])) << impl.name;
    EXPECT_EQ(out[2], T(3)) << impl.name << ": a NaN in another query row stays there";
  }
}

}  // namespace
}  // namespace softcert::test

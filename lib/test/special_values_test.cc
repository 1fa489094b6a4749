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

TYPED_TEST(SpecialValues, PositiveInfinityWithTemperatureAndMask) {
  using T = TypeParam;
  const T inf = this->inf;
  const std::vector<T> z{inf, 3, inf, inf, -inf};
  const T third = T(1) / T(3);
  // softmax((z - m)/t): the same limit whatever t.
  for (T t : {T(0.25), T(1), T(1000)}) {
    this->each(Function::softmax_temperature, z, [&](const std::string& who, const std::vector<T>& y) {
      EXPECT_BITS_EQ(y[0], third); EXPECT_BITS_EQ(y[1], T(0)); EXPECT_BITS_EQ(y[3], third); EXPECT_BITS_EQ(y[4], T(0));
    }, 0, {}, t);
  }
  // Masked: a +inf that is masked out does not count; the kept ones share the mass.
  this->each(Function::masked_softmax, z, [](const std::string& who, const std::vector<T>& y) {
    EXPECT_BITS_EQ(y[0], T(0.5)); EXPECT_BITS_EQ(y[1], T(0)); EXPECT_BITS_EQ(y[2], T(0.5));
    EXPECT_BITS_EQ(y[3], T(0)); EXPECT_BITS_EQ(y[4], T(0));
  }, 0, {1, 1, 1, 0, 1});
  this->each(Function::masked_softmax, z, [](const std::string& who, const std::vector<T>& y) {
    EXPECT_BITS_EQ(y[0], T(0)); EXPECT_BITS_EQ(y[1], T(1)); EXPECT_BITS_EQ(y[4], T(0));
  }, 0, {0, 1, 0, 0, 1});
  // One +inf: log_softmax +0 there (log 1), cross-entropy +0 at it, gradient +0 at it.
  const std::vector<T> one{T(-2), inf, T(7)};
  this->each(Function::log_softmax, one, [&](const std::string& who, const std::vector<T>& y) {
    EXPECT_BITS_EQ(y[0], -inf); EXPECT_BITS_EQ(y[1], T(0)); EXPECT_BITS_EQ(y[2], -inf);
  });
  this->each(Function::cross_entropy, one, [](const std::string& who, const std::vector<T>& y) { EXPECT_BITS_EQ(y[0], T(0)); }, 1);
  this->each(Function::cross_entropy_grad, one, [](const std::string& who, const std::vector<T>& y) {
    EXPECT_BITS_EQ(y[0], T(0)); EXPECT_BITS_EQ(y[1], T(0)); EXPECT_BITS_EQ(y[2], T(0));
  }, 1);
  this->each(Function::cross_entropy_grad, one, [](const std::string& who, const std::vector<T>& y) {
    EXPECT_BITS_EQ(y[0], T(-1)); EXPECT_BITS_EQ(y[1], T(1)); EXPECT_BITS_EQ(y[2], T(0));
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

TYPED_TEST(SpecialValues, SingleLogitEverywhere) {
  using T = TypeParam;
  const std::vector<T> z{T(1e4)};
  this->each(Function::softmax_temperature, z, [](const std::string& who, const std::vector<T>& y) { EXPECT_BITS_EQ(y[0], T(1)); },
             0, {}, T(0.01));
  this->each(Function::masked_softmax, z, [](const std::string& who, const std::vector<T>& y) { EXPECT_BITS_EQ(y[0], T(1)); });
  this->each(Function::cross_entropy_grad, z, [](const std::string& who, const std::vector<T>& y) { EXPECT_BITS_EQ(y[0], T(0)); });
  this->each(Function::logsumexp, z, [](const std::string& who, const std::vector<T>& y) { EXPECT_BITS_EQ(y[0], T(1e4)); });
}

// softmax_backward is plain arithmetic on whatever y and dy it is given: s = Σ y_j dy_j, and
// dx_i = y_i (dy_i - s) with IEEE's NaN and inf.
TYPED_TEST(SpecialValues, SoftmaxBackwardPropagatesAsIeee) {
  using T = TypeParam;
  const T inf = this->inf, nan = this->nan;
  for (const Implementation& impl : builtin_implementations()) {
    const auto backward = impl.kernels<T>().softmax_backward;
    if (!backward) continue;
    const std::string who = impl.name;
    const std::vector<T> y{T(0.5), T(0.25), T(0.25)};
    std::vector<T> dx(3);
    // A NaN in dy makes s NaN, so every dx_i (even where y_i = 0 would multiply a finite value).
    const std::vector<T> dy_nan{T(1), nan, T(2)};
    ASSERT_EQ(backward(y.data(), dy_nan.data(), dx.data(), 1, 3), SOFTCERT_OK);
    for (T v : dx) EXPECT_TRUE(std::isnan(v)) << who;
    // dy_0 = +inf with y_0 > 0: s = +inf, dx_0 = y_0 (inf - inf) = NaN, dx_i = y_i (dy_i - inf) = -inf.
    const std::vector<T> dy_inf{inf, T(1), T(-3)};
    ASSERT_EQ(backward(y.data(), dy_inf.data(), dx.data(), 1, 3), SOFTCERT_OK);
    EXPECT_TRUE(std::isnan(dx[0])) << who;
    EXPECT_BITS_EQ(dx[1], -inf);
    EXPECT_BITS_EQ(dx[2], -inf);
    // A NaN in y: s is NaN.
    const std::vector<T> y_nan{nan, T(0.5), T(0.5)}, dy{T(1), T(2), T(3)};
    ASSERT_EQ(backward(y_nan.data(), dy.data(), dx.data(), 1, 3), SOFTCERT_OK);
    for (T v : dx) EXPECT_TRUE(std::isnan(v)) << who;
    // Finite: a constant dy is in the kernel of the Jacobian, exactly.
    const std::vector<T> dy_const{T(4), T(4), T(4)};
    ASSERT_EQ(backward(y.data(), dy_const.data(), dx.data(), 1, 3), SOFTCERT_OK);
    for (T v : dx) EXPECT_EQ(v, T(0)) << who;
  }
}

// `accurate` never turns finite inputs into NaN, even where a product or a sum of them leaves the
// range of T (the exact result may still overflow: then it is ±inf, never NaN).
TYPED_TEST(SpecialValues, AccurateNeverMakesNaNFromFiniteExtremes) {
  using T = TypeParam;
  const T big = std::numeric_limits<T>::max(), tiny = std::numeric_limits<T>::denorm_min();
  const TypedKernels<T>& k = find_builtin("accurate")->kernels<T>();
  const std::vector<T> y{big, -big, T(0.5), tiny, T(0)}, dy{big, big, -big, T(1), big};
  std::vector<T> dx(5);
  ASSERT_EQ(k.softmax_backward(y.data(), dy.data(), dx.data(), 1, 5), SOFTCERT_OK);
  for (T v : dx) EXPECT_FALSE(std::isnan(v)) << v;
  EXPECT_EQ(dx[4], T(0));
  // A one-hot y: dx is exactly 0 (y_i (dy_i - dy_i) at the one, 0 · finite elsewhere).
  const std::vector<T> onehot{T(0), T(1), T(0), T(0), T(0)};
  ASSERT_EQ(k.softmax_backward(onehot.data(), dy.data(), dx.data(), 1, 5), SOFTCERT_OK);
  for (T v : dx) EXPECT_EQ(v, T(0));
  // Attention with huge entries of both signs: dot products overflow T, the result does not.
  const std::vector<T> q{big, big, -big, big}, kk{big, -big, big, big}, v{big, -big, big, big};
  std::vector<T> out(4);
  ASSERT_EQ(k.attention(q.data(), kk.data(), v.data(), out.data(), 2, 2, 2, 2, 0), SOFTCERT_OK);
  for (T o : out) EXPECT_TRUE(std::isfinite(o)) << o;
  // Row 0: q_0 · k_0 = 0 and q_0 · k_1 = 2 big^2, so the weights are one-hot on key 1: out = v_1.
  EXPECT_EQ(out[0], big);
  EXPECT_EQ(out[1], big);
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

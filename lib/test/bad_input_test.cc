// Bad input gets the documented return code of abi.h and leaves the output untouched, for every
// kernel of every lib algorithm in both types.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "kernel_calls.hpp"

namespace softcert::test {
namespace {

template <typename T>
class BadInput : public ::testing::Test {
 protected:
  static constexpr std::size_t kRows = 2, kN = 5;
  std::vector<T> x = std::vector<T>(kRows * kN, T(0.5));
  std::vector<T> dy = std::vector<T>(kRows * kN, T(1));
  std::vector<int64_t> labels = {1, 3};
  std::vector<uint8_t> keep = std::vector<uint8_t>(kRows * kN, 1);
  std::vector<T> y;
  const T sentinel = T(-12345.5);

  RowCall<T> good() {
    y.assign(kRows * kN, sentinel);
    return {x.data(), y.data(), kRows, kN, labels.data(), keep.data(), dy.data(), T(1)};
  }
  bool untouched() const {
    for (T v : y) if (v != sentinel) return false;
    return true;
  }

  // Every provided row kernel of every builtin gets `expected` for the call `mutate` makes.
  template <typename Mutate>
  void expect_all(int expected, Mutate mutate, std::initializer_list<Function> only = {}) {
    std::size_t checked = 0;
    for (const Implementation& impl : builtin_implementations()) {
      for (Function f : kRowFunctions) {
        if (!provides<T>(impl, f)) continue;
        if (only.size() && std::find(only.begin(), only.end(), f) == only.end()) continue;
        RowCall<T> c = good();
        mutate(c);
        EXPECT_EQ(call(impl.kernels<T>(), f, c), expected) << kernel_id<T>(impl, f);
        EXPECT_TRUE(untouched()) << kernel_id<T>(impl, f) << " wrote its output on bad input";
        ++checked;
      }
    }
    EXPECT_GT(checked, 0u);
  }
};
using Types = ::testing::Types<float, double>;
TYPED_TEST_SUITE(BadInput, Types);

TYPED_TEST(BadInput, GoodInputSucceeds) {
  for (const Implementation& impl : builtin_implementations()) {
    for (Function f : kRowFunctions) {
      if (!provides<TypeParam>(impl, f)) continue;
      EXPECT_EQ(call(impl.kernels<TypeParam>(), f, this->good()), SOFTCERT_OK) << kernel_id<TypeParam>(impl, f);
      EXPECT_FALSE(this->untouched());
    }
  }
}

TYPED_TEST(BadInput, NullPointers) {
  this->expect_all(SOFTCERT_ERR_NULL, [](RowCall<TypeParam>& c) { c.x = nullptr; });
  this->expect_all(SOFTCERT_ERR_NULL, [](RowCall<TypeParam>& c) { c.y = nullptr; });
  this->expect_all(SOFTCERT_ERR_NULL, [](RowCall<TypeParam>& c) { c.labels = nullptr; },
                   {Function::cross_entropy, Function::cross_entropy_grad});
  this->expect_all(SOFTCERT_ERR_NULL, [](RowCall<TypeParam>& c) { c.keep = nullptr; }, {Function::masked_softmax});
  this->expect_all(SOFTCERT_ERR_NULL, [](RowCall<TypeParam>& c) { c.dy = nullptr; }, {Function::softmax_backward});
}

TYPED_TEST(BadInput, EmptyShapes) {
  this->expect_all(SOFTCERT_ERR_EMPTY, [](RowCall<TypeParam>& c) { c.n = 0; });
  this->expect_all(SOFTCERT_ERR_EMPTY, [](RowCall<TypeParam>& c) { c.rows = 0; });
}

TYPED_TEST(BadInput, SizeOverflow) {
  // rows × n × sizeof(T) beyond size_t: refused before any element is read.
  this->expect_all(SOFTCERT_ERR_SIZE, [](RowCall<TypeParam>& c) {
    c.rows = std::numeric_limits<std::size_t>::max() / 4;
    c.n = 8;
  });
}

TYPED_TEST(BadInput, LabelsOutsideTheRow) {
  const std::initializer_list<Function> ce = {Function::cross_entropy, Function::cross_entropy_grad};
  for (int64_t bad : {int64_t(-1), int64_t(5), int64_t(6), std::numeric_limits<int64_t>::min(),
                      std::numeric_limits<int64_t>::max()}) {
    // The bad label is in the second row: the first row must not have been written either.
    this->labels = {0, bad};
    this->expect_all(SOFTCERT_ERR_LABEL, [](RowCall<TypeParam>&) {}, ce);
  }
}

TYPED_TEST(BadInput, TemperatureNotPositiveAndFinite) {
  using T = TypeParam;
  for (T t : {T(0), T(-0.0), T(-1), std::numeric_limits<T>::quiet_NaN(), std::numeric_limits<T>::infinity(),
              -std::numeric_limits<T>::infinity()}) {
    this->expect_all(SOFTCERT_ERR_TEMPERATURE, [t](RowCall<T>& c) { c.t = t; }, {Function::softmax_temperature});
  }
}

// abi.h's order when several things are wrong: null, then empty, then size, then labels, then
// temperature (labels are never read when the sizes are already refused).
TYPED_TEST(BadInput, CodesComeInAbiOrder) {
  using T = TypeParam;
  const T nan = std::numeric_limits<T>::quiet_NaN();
  this->expect_all(SOFTCERT_ERR_NULL, [](RowCall<T>& c) { c.x = nullptr; c.n = 0; });
  this->expect_all(SOFTCERT_ERR_NULL, [](RowCall<T>& c) { c.labels = nullptr; c.rows = 0; },
                   {Function::cross_entropy, Function::cross_entropy_grad});
  this->expect_all(SOFTCERT_ERR_NULL, [nan](RowCall<T>& c) { c.y = nullptr; c.t = nan; }, {Function::softmax_temperature});
  this->expect_all(SOFTCERT_ERR_EMPTY, [nan](RowCall<T>& c) { c.n = 0; c.t = nan; }, {Function::softmax_temperature});
  this->expect_all(SOFTCERT_ERR_SIZE, [nan](RowCall<T>& c) {
    c.rows = std::numeric_limits<std::size_t>::max() / 2;
    c.n = 3;
    c.t = nan;
  }, {Function::softmax_temperature});
  this->labels = {7, 9};  // out of range, but not to be read for a refused size
  this->expect_all(SOFTCERT_ERR_SIZE, [](RowCall<T>& c) {
    c.rows = std::numeric_limits<std::size_t>::max() / 2;
    c.n = 3;
  }, {Function::cross_entropy, Function::cross_entropy_grad});
  this->expect_all(SOFTCERT_ERR_EMPTY, [](RowCall<T>& c) { c.n = 0; }, {Function::cross_entropy, Function::cross_entropy_grad});
}

TYPED_TEST(BadInput, Attention) {
  using T = TypeParam;
  std::vector<T> q(6, T(1)), k(6, T(1)), v(4, T(1)), out(6, T(-7));
  for (const Implementation& impl : builtin_implementations()) {
    const auto attention = impl.kernels<T>().attention;
    if (!attention) continue;
    std::fill(out.begin(), out.end(), T(-7));
    EXPECT_EQ(attention(nullptr, k.data(), v.data(), out.data(), 3, 2, 2, 2, 0), SOFTCERT_ERR_NULL);
    EXPECT_EQ(attention(q.data(), nullptr, v.data(), out.data(), 3, 2, 2, 2, 0), SOFTCERT_ERR_NULL);
    EXPECT_EQ(attention(q.data(), k.data(), nullptr, out.data(), 3, 2, 2, 2, 0), SOFTCERT_ERR_NULL);
    EXPECT_EQ(attention(q.data(), k.data(), v.data(), nullptr, 3, 2, 2, 2, 0), SOFTCERT_ERR_NULL);
    for (int which = 0; which < 4; ++which) {
      std::size_t s[4] = {3, 2, 2, 2};
      s[which] = 0;
      EXPECT_EQ(attention(q.data(), k.data(), v.data(), out.data(), s[0], s[1], s[2], s[3], 1), SOFTCERT_ERR_EMPTY);
    }
    const std::size_t huge = std::numeric_limits<std::size_t>::max() / 2;
    EXPECT_EQ(attention(q.data(), k.data(), v.data(), out.data(), 3, huge, 2, 2, 0), SOFTCERT_ERR_SIZE);
    for (T o : out) EXPECT_EQ(o, T(-7)) << impl.name << " wrote its output on bad input";
    EXPECT_EQ(attention(q.data(), k.data(), v.data(), out.data(), 3, 2, 2, 2, 1), SOFTCERT_OK);
  }
}

TEST(StatusNames, AreDocumented) {
  EXPECT_EQ(status_name(SOFTCERT_ERR_LABEL), "SOFTCERT_ERR_LABEL");
  EXPECT_EQ(status_name(SOFTCERT_ERR_TEMPERATURE), "SOFTCERT_ERR_TEMPERATURE");
  EXPECT_EQ(status_name(99), "declined (nonzero status)");
}

}  // namespace
}  // namespace softcert::test

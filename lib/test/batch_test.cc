// A batch of rows gives each row bit for bit what a call on that row alone gives (no row mixing,
// no state carried between rows), and the same input twice gives the same bits.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "kernel_calls.hpp"

namespace softcert::test {
namespace {

template <typename T>
class Batch : public ::testing::Test {};
using Types = ::testing::Types<float, double>;
TYPED_TEST_SUITE(Batch, Types);

TYPED_TEST(Batch, RowsAreIndependentAndDeterministic) {
  using T = TypeParam;
  std::mt19937_64 rng(7);
  std::normal_distribution<double> g(0, 4);
  for (std::size_t n : {1u, 3u, 8u, 17u, 67u}) {
    const std::size_t rows = 5;
    std::vector<T> x(rows * n), dy(rows * n);
    for (T& v : x) v = static_cast<T>(g(rng));
    for (T& v : dy) v = static_cast<T>(g(rng));
    x[n / 2] = -std::numeric_limits<T>::infinity();  // a special value in row 0 only
    std::vector<int64_t> labels(rows);
    for (std::size_t r = 0; r < rows; ++r) labels[r] = static_cast<int64_t>(r % n);
    std::vector<uint8_t> keep(rows * n);
    for (auto& k : keep) k = rng() % 3 != 0;
    for (const Implementation& impl : builtin_implementations()) {
      for (Function f : kRowFunctions) {
        if (!provides<T>(impl, f) || f == Function::sigmoid) continue;
        const std::size_t per = outputs_per_row(f, n);
        std::vector<T> batch(rows * per), again(rows * per), single(per);
        RowCall<T> all{x.data(), batch.data(), rows, n, labels.data(), keep.data(), dy.data(), T(0.7)};
        ASSERT_EQ(call(impl.kernels<T>(), f, all), SOFTCERT_OK);
        all.y = again.data();
        ASSERT_EQ(call(impl.kernels<T>(), f, all), SOFTCERT_OK);
        EXPECT_EQ(std::memcmp(batch.data(), again.data(), batch.size() * sizeof(T)), 0)
            << kernel_id<T>(impl, f) << " is not deterministic";
        for (std::size_t r = 0; r < rows; ++r) {
          RowCall<T> one{x.data() + r * n, single.data(), 1, n, labels.data() + r, keep.data() + r * n,
                         dy.data() + r * n, T(0.7)};
          ASSERT_EQ(call(impl.kernels<T>(), f, one), SOFTCERT_OK);
          EXPECT_EQ(std::memcmp(single.data(), batch.data() + r * per, per * sizeof(T)), 0)
              << kernel_id<T>(impl, f) << " row " << r << " of a batch differs from the row alone (n=" << n << ")";
        }
      }
    }
  }
}

}  // namespace
}  // namespace softcert::test

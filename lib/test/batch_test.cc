// A batch of rows gives each row bit for bit what a call on that row alone gives (no row mixing,
// no state carried between rows), and the same input twice gives the same bits.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "kernel_calls.hpp"
#include "kernels.hpp"
#include "softcert/float_format.hpp"

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

// The f16/bf16 kernels go through their work type a chunk of rows at a time (kernels.hpp's
// through_format): a batch of several chunks, some rows longer than a chunk, gives each row what
// the row alone gives, and writes nothing past the batch.
TEST(ReducedBatch, RowsAcrossChunksAreTheRowsAlone) {
  std::mt19937_64 rng(11);
  std::normal_distribution<float> g(0, 3);
  for (const FloatFormat* format : {&kBinary16, &kBFloat16}) {
    for (std::size_t n : {std::size_t(5), std::size_t(1000), std::size_t(40000)}) {
      const std::size_t rows = 3 * lib::kReducedChunk / n + 2;  // three chunks and a part (two rows at least)
      std::vector<std::uint16_t> x(rows * n);
      for (auto& v : x) v = encode(g(rng), *format);
      for (const Implementation& impl : builtin_implementations()) {
        const ReducedKernels& k = impl.reduced(*format);
        for (auto kernel : {k.softmax, k.log_softmax}) {
          if (kernel == nullptr) continue;
          std::vector<std::uint16_t> batch(rows * n + 1, 0xabcd), single(n);
          ASSERT_EQ(kernel(x.data(), batch.data(), rows, n), SOFTCERT_OK);
          EXPECT_EQ(batch.back(), 0xabcd) << impl.name << " wrote past the batch";
          for (std::size_t r : {std::size_t(0), rows / 2, rows - 1}) {
            ASSERT_EQ(kernel(x.data() + r * n, single.data(), 1, n), SOFTCERT_OK);
            EXPECT_EQ(std::memcmp(single.data(), batch.data() + r * n, n * sizeof(std::uint16_t)), 0)
                << impl.name << " " << format->name << " row " << r << " of " << rows << " (n=" << n << ")";
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace softcert::test

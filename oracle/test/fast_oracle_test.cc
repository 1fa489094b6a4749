// The fast paths of fast_oracle.hpp against the MPFR oracle: the same float and exactness
// wherever the fast path answers, on random bit patterns and on the inputs where σ crosses the
// float32 extremes (0, the smallest subnormal, the subnormal range, 1).
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <random>

#include "softcert/fast_oracle.hpp"

namespace softcert::oracle {
namespace {

void expect_same(float x, std::size_t& decided) {
  const std::optional<Exact<float>> fast = sigmoid_fast(x);
  if (!fast) return;
  ++decided;
  const Exact<float> slow = sigmoid<float>(x);
  ASSERT_EQ(std::bit_cast<std::uint32_t>(fast->value), std::bit_cast<std::uint32_t>(slow.value))
      << "x = " << std::hexfloat << x << ": fast " << fast->value << ", MPFR " << slow.value;
  ASSERT_EQ(fast->exact, slow.exact) << "x = " << std::hexfloat << x;
}

TEST(FastOracle, SigmoidMatchesMpfrOnRandomBitPatterns) {
  std::mt19937_64 rng(20261128);
  std::size_t decided = 0;
  constexpr int kCases = 200000;
  for (int i = 0; i < kCases; ++i) expect_same(std::bit_cast<float>(static_cast<std::uint32_t>(rng())), decided);
  EXPECT_GT(decided, kCases * 99 / 100);  // a fast path that rarely answers is no fast path
}

TEST(FastOracle, SigmoidMatchesMpfrWhereTheResultLeavesTheNormalRange) {
  std::size_t decided = 0;
  // x from -110 to -80 (σ crosses the smallest subnormal and the normal range's bottom) and
  // from 15 to 18 (σ reaches 1), every 1,024th float.
  for (float lo : {-110.0f, 15.0f}) {
    const float hi = lo < 0 ? -80.0f : 18.0f;
    for (std::uint32_t b = std::bit_cast<std::uint32_t>(std::min(lo, hi)); ; b += lo < 0 ? -1024 : 1024) {
      const float x = std::bit_cast<float>(b);
      if (!(x >= std::min(lo, hi) && x <= std::max(lo, hi))) break;
      expect_same(x, decided);
    }
  }
  for (float x : {0.0f, -0.0f, 1e-45f, -745.5f, -1e30f, 1e30f}) expect_same(x, decided);
  EXPECT_GT(decided, 1000u);
}

}  // namespace
}  // namespace softcert::oracle

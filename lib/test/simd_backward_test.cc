// simd's f32 softmax_backward (simd_backward.cc) on EVERY Highway target compiled into it that this
// CPU can run: each test forces dispatch to each target in turn (hwy::SetSupportedTargetsForTest)
// and checks
//   - <= 1 ULP against the oracle on every output (subnormal ones included) in every regime of
//     properties/regimes.hpp that softmax_backward has, every row length 1..67 among them;
//   - rows where the dot product cancels, or dy_i ≈ Σ y_j dy_j, within 1 ULP too (those its bound
//     cannot decide go to accurate's exact routine), and outputs around FLT_MAX;
//   - rows with a non-finite entry bit for bit as `accurate` gives them;
//   - a batch of rows computes what each row computes alone, and writes nothing outside dx.
// It links the oracle (through properties), hence its own executable.
#include <gtest/gtest.h>
#include <hwy/targets.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iostream>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "simd.hpp"
#include "simd_test_support.hpp"
#include "simd_backward.hpp"
#include "softcert/properties/agreement.hpp"

namespace softcert::properties {
namespace {

constexpr float inf = std::numeric_limits<float>::infinity();
constexpr float nan = std::numeric_limits<float>::quiet_NaN();

// A softmax output row of n entries from N(0, spread) logits.
std::vector<float> probabilities(std::mt19937_64& rng, std::size_t n, float spread) {
  std::vector<float> z(n);
  for (float& v : z) v = std::normal_distribution<float>(0, spread)(rng);
  std::vector<float> y;
  for (const auto& p : oracle::softmax<float>(z)) y.push_back(p.value);
  return y;
}

Case<float> backward_case(std::vector<float> y, std::vector<float> dy) {
  Case<float> c;
  c.function = Function::softmax_backward;
  c.x = std::move(y);
  c.dy = std::move(dy);
  fill_exact(c);
  return c;
}

TEST(SimdBackward, WithinOneUlpOfTheOracleInEveryRegimeOnEveryTarget) {
  std::vector<Case<float>> cases;
  for (Regime r : kAllRegimes) {
    if (!applicable(Function::softmax_backward, r) || r == Regime::simd_tails) continue;  // tails: below
    for (std::size_t i = 0; i < 16; ++i) cases.push_back(make_case<float>(Function::softmax_backward, r, 0xbac0000u + i));
  }
  // Longer rows than the regimes draw: many vectors per accumulator, and rows past L1.
  std::mt19937_64 rng(37);
  for (std::size_t n : {1000, 4099, 20000}) {
    std::vector<float> dy(n);
    for (float& v : dy) v = std::normal_distribution<float>(0, 1)(rng);
    cases.push_back(backward_case(probabilities(rng, n, 3.0f), dy));
  }
  for_each_target([&](const std::string& target) { expect_within_one_ulp(cases, target + " regimes"); });
}

// Every row length 1..67 (every tail of 2, 4 and 8 f64 lanes), one row alone and in a batch of
// three: within 1 ULP, nothing written outside dx, the batch's rows what each gives alone.
TEST(SimdBackward, EveryTailLengthOnEveryTarget) {
  std::vector<Case<float>> cases;
  std::set<std::size_t> lengths;
  for (std::uint64_t seed = 0; seed < 67; ++seed) {
    cases.push_back(make_case<float>(Function::softmax_backward, Regime::simd_tails, seed));
    lengths.insert(cases.back().x.size());
  }
  ASSERT_EQ(lengths.size(), 67u);
  EXPECT_EQ(*lengths.begin(), 1u);
  EXPECT_EQ(*lengths.rbegin(), 67u);
  for_each_target([&](const std::string& target) {
    expect_within_one_ulp(cases, target + " tails");
    for (const Case<float>& c : cases) {
      const std::size_t n = c.x.size();
      std::vector<float> y, dy;
      for (int r = 0; r < 3; ++r) {
        y.insert(y.end(), c.x.begin(), c.x.end());
        dy.insert(dy.end(), c.dy.begin(), c.dy.end());
      }
      std::reverse(dy.begin() + n, dy.begin() + 2 * n);  // the middle row differs
      std::vector<float> batch;
      ASSERT_EQ(call_guarded(batch, 3 * n, [&](float* dx) { return lib::simd_softmax_backward_f32(y.data(), dy.data(), dx, 3, n); }),
                SOFTCERT_OK);
      for (std::size_t r = 0; r < 3; ++r) {
        std::vector<float> alone;
        ASSERT_EQ(call_guarded(alone, n, [&](float* dx) {
                    return lib::simd_softmax_backward_f32(y.data() + r * n, dy.data() + r * n, dx, 1, n);
                  }),
                  SOFTCERT_OK);
        EXPECT_EQ(0, std::memcmp(alone.data(), batch.data() + r * n, n * sizeof(float))) << "n=" << n << " row " << r;
      }
    }
  });
}

// How far dx_i cancels: the largest |y_i dy_i| / |dx_i| of the row (inf where some dx_i = 0 while
// y_i dy_i is not).
double cancellation(const Case<float>& c) {
  double worst = 0;
  for (std::size_t i = 0; i < c.x.size(); ++i) {
    const double term = std::fabs(double(c.x[i]) * double(c.dy[i]));
    if (term == 0) continue;
    worst = std::max(worst, c.exact[i].hi == 0 ? inf : term / std::fabs(c.exact[i].hi));
  }
  return worst;
}

// Rows designed to defeat the f64-lane bound: every one must still be within 1 ULP.
TEST(SimdBackward, CancellingRowsWithinOneUlpOnEveryTarget) {
  std::mt19937_64 rng(41);
  std::vector<Case<float>> cases;
  for (std::size_t k = 0; k < 60; ++k) {
    const std::size_t n = 1 + rng() % 67;
    const std::vector<float> y = probabilities(rng, n, k % 2 ? 1.0f : 6.0f);
    std::vector<float> dy(n);
    for (float& v : dy) v = std::normal_distribution<float>(0, 1)(rng);
    // dy_i ≈ s: dy_i = rest / (1 - y_i), rest = Σ_{j != i} y_j dy_j, and its float neighbours.
    const std::size_t i = rng() % n;
    long double rest = 0;
    for (std::size_t j = 0; j < n; ++j) rest += j == i ? 0.0L : static_cast<long double>(y[j]) * dy[j];
    const float fixed = static_cast<float>(rest / (1 - static_cast<long double>(y[i])));
    for (int step : {-2, -1, 0, 1, 2}) {
      dy[i] = fixed;
      for (int s = 0; s < std::abs(step); ++s) dy[i] = std::nextafter(dy[i], step < 0 ? -inf : inf);
      cases.push_back(backward_case(y, dy));
    }
    // A constant dy: dx = y (c - c Σ y), Σ y within n/2 ULPs of 1 (the Jacobian's rows sum to 0).
    cases.push_back(backward_case(y, std::vector<float>(n, k % 3 ? 0.7f : -1e30f)));
    // The dot product the remainder of huge terms: dy = ±2^40 on all entries but the last, which
    // cancels their sum to a float's rounding, and small dy_j here and there.
    if (n >= 3) {
      std::vector<float> big(n);
      long double sum = 0;
      for (std::size_t j = 0; j + 1 < n; ++j) {
        big[j] = (rng() % 2 ? 1.0f : -1.0f) * 0x1p40f * (1 + float(j) / 64);
        if (j % 4 == 1) big[j] = std::normal_distribution<float>(0, 1)(rng);
        sum += static_cast<long double>(y[j]) * big[j];
      }
      big[n - 1] = static_cast<float>(-sum / y[n - 1]);
      cases.push_back(backward_case(y, big));
    }
    // One-hot and two-hot y: dx exactly 0 where the dot is dy_i itself.
    std::vector<float> hot(n, 0.0f);
    hot[i] = 1;
    cases.push_back(backward_case(hot, dy));
    if (n >= 2) {
      hot[i] = hot[(i + 1) % n] = 0.5f;
      std::vector<float> same = dy;
      same[(i + 1) % n] = same[i];
      cases.push_back(backward_case(hot, same));
    }
  }
  // s exactly dy_k, or within 2^-83 of it, assembled from products whose sub-ulp parts
  // cancel: the bound cannot decide these, the exact routine does. y_k = 1/2 and short y_j, dy_j
  // elsewhere make rest = Σ_{j != k} y_j dy_j a float, and dy_k = 2 rest solves dy_k = rest + dy_k/2.
  for (std::size_t k = 0; k < 40; ++k) {
    const std::size_t n = 6 + rng() % 60;
    std::vector<float> y(n), dy(n);
    for (std::size_t j = 0; j < n; ++j) {
      y[j] = static_cast<float>(1 + rng() % 63) / 64;
      dy[j] = static_cast<float>(static_cast<int>(rng() % 17) - 8);
    }
    // Pairs of tiny products that cancel (but for t ulp(u) where `off`), in the body and the tail.
    const bool off = k % 2;
    for (std::size_t j : {std::size_t(1), n - 2}) {
      const float t = std::ldexp(static_cast<float>(1 + 2 * (rng() % 8)), -34);
      const float u = std::ldexp(static_cast<float>(1 + 2 * (rng() % 1024)), -40);
      y[j] = y[j + 1] = t;
      dy[j] = u, dy[j + 1] = off ? -std::nextafter(u, inf) : -u;
    }
    const std::size_t at = rng() % 2 ? 0 : n / 2;  // away from the pairs
    y[at] = 0.5f;
    double rest = 0;
    for (std::size_t j = 0; j < n; ++j) rest += j == at ? 0.0 : double(y[j]) * double(dy[j]);
    dy[at] = static_cast<float>(2 * rest);
    cases.push_back(backward_case(y, dy));
  }
  // The rows do cancel: most lose 20 bits or more to it somewhere.
  const auto deep = std::count_if(cases.begin(), cases.end(), [](const Case<float>& c) { return cancellation(c) > 0x1p20; });
  EXPECT_GT(deep, static_cast<long>(cases.size() / 2)) << deep << " of " << cases.size();
  for_each_target([&](const std::string& target) { expect_within_one_ulp(cases, target + " cancelling rows"); });
}

// Outputs around FLT_MAX: dx_0 = -y_0 s, y_0 near 2^99 and s near 2^28 (dy_0 = 0, y_j in [1, 2) and
// dy_j near ±2^26 elsewhere). Rounded to the largest float or to inf as the exact value is, on
// every target (the portable targets' f64-to-f32 conversion saturates).
TEST(SimdBackward, OutputsAtTheTopOfTheRangeOnEveryTarget) {
  std::mt19937_64 rng(47);
  std::uniform_real_distribution<float> unit(1, 2);
  std::vector<Case<float>> cases;
  for (std::size_t k = 0; k < 60; ++k) {
    const std::size_t n = 2 + rng() % 20;
    std::vector<float> y(n), dy(n);
    for (float& v : y) v = unit(rng);
    for (float& v : dy) v = (rng() % 2 ? 0x1p26f : -0x1p26f) * unit(rng);
    y[0] = std::ldexp(unit(rng), 97 + static_cast<int>(rng() % 4)), dy[0] = 0;
    cases.push_back(backward_case(y, dy));
  }
  const auto finite = std::count_if(cases.begin(), cases.end(), [](const Case<float>& c) {
    return std::any_of(c.exact.begin(), c.exact.end(), [](const auto& e) { return std::fabs(e.value) > 0x1p126f && std::isfinite(e.value); });
  });
  const auto infinite = std::count_if(cases.begin(), cases.end(), [](const Case<float>& c) {
    return std::any_of(c.exact.begin(), c.exact.end(), [](const auto& e) { return std::isinf(e.value); });
  });
  EXPECT_GT(finite, 5) << "outputs in the top binades";
  EXPECT_GT(infinite, 5) << "outputs past FLT_MAX";
  for_each_target([&](const std::string& target) { expect_within_one_ulp(cases, target + " top of the range"); });
}

using Bits = std::vector<std::uint32_t>;
Bits bits(const float* v, std::size_t n) {
  Bits b(n);
  std::memcpy(b.data(), v, n * sizeof(float));
  return b;
}

// NaN, ±inf in y, dy or both, at the start, in the vector body and in the tail: plain IEEE
// arithmetic, exactly accurate's; between two regular rows of a batch, which stay what they are
// alone.
TEST(SimdBackward, NonFiniteRowsAreAccurateOnesBitForBit) {
  std::mt19937_64 rng(43);
  for_each_target([&](const std::string&) {
    for (std::size_t n : {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 67, 1000}) {
      const std::vector<float> regular = probabilities(rng, n, 2.0f);
      std::vector<float> alone(n);
      const std::vector<float> regular_dy(n, 0.5f);
      ASSERT_EQ(lib::simd_softmax_backward_f32(regular.data(), regular_dy.data(), alone.data(), 1, n), SOFTCERT_OK);
      for (std::size_t at : {std::size_t(0), n / 2, n - 1}) {
        for (float special : {nan, inf, -inf}) {
          // In y; in dy with y_at 0.25 or 0 (0 · inf is NaN); in both.
          for (int variant = 0; variant < 4; ++variant) {
            std::vector<float> y = probabilities(rng, n, 2.0f), dy(n);
            for (float& v : dy) v = std::normal_distribution<float>(0, 1)(rng);
            y[at] = variant == 1 ? 0.25f : variant == 2 ? 0.0f : special;
            if (variant != 0) dy[at] = special;
            std::vector<float> ys = regular, dys = regular_dy;
            ys.insert(ys.end(), y.begin(), y.end()), ys.insert(ys.end(), regular.begin(), regular.end());
            dys.insert(dys.end(), dy.begin(), dy.end()), dys.insert(dys.end(), regular_dy.begin(), regular_dy.end());
            std::vector<float> got(3 * n, -7.0f), want(3 * n, -7.0f);
            ASSERT_EQ(lib::simd_softmax_backward_f32(ys.data(), dys.data(), got.data(), 3, n), SOFTCERT_OK);
            ASSERT_EQ(builtin("accurate").f32.softmax_backward(ys.data(), dys.data(), want.data(), 3, n), SOFTCERT_OK);
            const std::string what = "n=" + std::to_string(n) + " at=" + std::to_string(at) + " special=" +
                                     std::to_string(special) + " variant=" + std::to_string(variant);
            EXPECT_EQ(bits(got.data() + n, n), bits(want.data() + n, n)) << what;
            EXPECT_EQ(bits(got.data(), n), bits(alone.data(), n)) << what;
            EXPECT_EQ(bits(got.data() + 2 * n, n), bits(alone.data(), n)) << what;
          }
        }
      }
    }
  });
}

TEST(SimdBackward, BadInputIsRejectedAsAccurateRejectsIt) {
  float y[4] = {0.25f, 0.25f, 0.25f, 0.25f}, dy[4] = {1, 2, 3, 4}, dx[4] = {};
  const auto both = same_code_as(lib::simd_softmax_backward_f32, builtin("accurate").f32.softmax_backward);
  EXPECT_EQ(both(nullptr, dy, dx, 1, 4), SOFTCERT_ERR_NULL);
  EXPECT_EQ(both(y, nullptr, dx, 1, 4), SOFTCERT_ERR_NULL);
  EXPECT_EQ(both(y, dy, nullptr, 1, 4), SOFTCERT_ERR_NULL);
  EXPECT_EQ(both(y, dy, dx, 0, 4), SOFTCERT_ERR_EMPTY);
  EXPECT_EQ(both(y, dy, dx, 1, 0), SOFTCERT_ERR_EMPTY);
  EXPECT_EQ(both(y, dy, dx, std::size_t(1) << 62, 4), SOFTCERT_ERR_SIZE);
  for (float v : dx) EXPECT_EQ(v, 0.0f) << "nothing written on error";
}

}  // namespace
}  // namespace softcert::properties

// simd's softmax_backward (simd_backward.cc), f32 and f64 (each test typed over both), on EVERY
// Highway target compiled into it that this CPU can run: each test forces dispatch to each target in
// turn (hwy::SetSupportedTargetsForTest) and checks
//   - <= 1 ULP against the oracle on every output (subnormal ones included) in every regime of
//     properties/regimes.hpp that softmax_backward has, every row length 1..67 among them;
//   - rows where the dot product cancels, or dy_i ≈ Σ y_j dy_j, within 1 ULP too (those its bound
//     cannot decide go to accurate's exact routine), outputs around the largest finite value and
//     subnormal outputs;
//   - rows with a non-finite entry bit for bit as `accurate` gives them;
//   - a batch of rows computes what each row computes alone, and writes nothing outside dx;
//   - in place (dx = y or dx = dy), rows the lanes compute and rows the exact routine redoes give
//     what they give out of place.
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
#include <type_traits>
#include <vector>

#include "simd.hpp"
#include "simd_test_support.hpp"
#include "simd_backward.hpp"
#include "softcert/properties/agreement.hpp"

namespace softcert::properties {
namespace {

// simd's kernel for T, called directly.
template <typename T>
int simd_backward(const T* y, const T* dy, T* dx, std::size_t rows, std::size_t n) {
  if constexpr (std::is_same_v<T, float>) return lib::simd_softmax_backward_f32(y, dy, dx, rows, n);
  else return lib::simd_softmax_backward_f64(y, dy, dx, rows, n);
}

template <typename T>
constexpr T inf = std::numeric_limits<T>::infinity();

// A softmax output row of n entries from N(0, spread) logits.
template <typename T>
std::vector<T> probabilities(std::mt19937_64& rng, std::size_t n, T spread) {
  std::vector<T> z(n);
  for (T& v : z) v = std::normal_distribution<T>(0, spread)(rng);
  std::vector<T> y;
  for (const auto& p : oracle::softmax<T>(z)) y.push_back(p.value);
  return y;
}

template <typename T>
std::vector<T> normal(std::mt19937_64& rng, std::size_t n) {
  std::vector<T> v(n);
  for (T& e : v) e = std::normal_distribution<T>(0, 1)(rng);
  return v;
}

template <typename T>
Case<T> backward_case(std::vector<T> y, std::vector<T> dy) {
  Case<T> c;
  c.function = Function::softmax_backward;
  c.x = std::move(y);
  c.dy = std::move(dy);
  fill_exact(c);
  return c;
}

template <typename T>
std::vector<unsigned char> bytes(const T* v, std::size_t n) {
  std::vector<unsigned char> b(n * sizeof(T));
  std::memcpy(b.data(), v, b.size());
  return b;
}

template <typename T>
class SimdBackward : public ::testing::Test {};
struct TypeNames {
  template <typename T>
  static std::string GetName(int) { return std::is_same_v<T, float> ? "f32" : "f64"; }
};
using Types = ::testing::Types<float, double>;
TYPED_TEST_SUITE(SimdBackward, Types, TypeNames);

TYPED_TEST(SimdBackward, WithinOneUlpOfTheOracleInEveryRegimeOnEveryTarget) {
  using T = TypeParam;
  std::vector<Case<T>> cases;
  for (Regime r : kAllRegimes) {
    if (!applicable(Function::softmax_backward, r) || r == Regime::simd_tails) continue;  // tails: below
    for (std::size_t i = 0; i < 16; ++i) cases.push_back(make_case<T>(Function::softmax_backward, r, 0xbac0000u + i));
  }
  // Longer rows than the regimes draw: many vectors per accumulator, rows past L1, and past one
  // block of pass 1 (2 · 256 vectors).
  std::mt19937_64 rng(37);
  for (std::size_t n : {1000, 4099, 20000, 70001}) cases.push_back(backward_case(probabilities<T>(rng, n, 3), normal<T>(rng, n)));
  for_each_target([&](const std::string& target) {
    const std::size_t wrong = expect_within_one_ulp(cases, target + " regimes");
    std::size_t outputs = 0;
    for (const Case<T>& c : cases) outputs += c.exact.size();
    EXPECT_LE(wrong, outputs / 1000) << "nearly always correctly rounded";
  });
}

// Every row length 1..67 (every tail of 2, 4 and 8 f64 lanes), one row alone and in a batch of
// three: within 1 ULP, nothing written outside dx, the batch's rows what each gives alone.
TYPED_TEST(SimdBackward, EveryTailLengthOnEveryTarget) {
  using T = TypeParam;
  std::vector<Case<T>> cases;
  std::set<std::size_t> lengths;
  for (std::uint64_t seed = 0; seed < 67; ++seed) {
    cases.push_back(make_case<T>(Function::softmax_backward, Regime::simd_tails, seed));
    lengths.insert(cases.back().x.size());
  }
  ASSERT_EQ(lengths.size(), 67u);
  EXPECT_EQ(*lengths.begin(), 1u);
  EXPECT_EQ(*lengths.rbegin(), 67u);
  for_each_target([&](const std::string& target) {
    expect_within_one_ulp(cases, target + " tails");
    for (const Case<T>& c : cases) {
      const std::size_t n = c.x.size();
      std::vector<T> y, dy;
      for (int r = 0; r < 3; ++r) {
        y.insert(y.end(), c.x.begin(), c.x.end());
        dy.insert(dy.end(), c.dy.begin(), c.dy.end());
      }
      std::reverse(dy.begin() + n, dy.begin() + 2 * n);  // the middle row differs
      std::vector<T> batch;
      ASSERT_EQ(call_guarded(batch, 3 * n, [&](T* dx) { return simd_backward<T>(y.data(), dy.data(), dx, 3, n); }),
                SOFTCERT_OK);
      for (std::size_t r = 0; r < 3; ++r) {
        std::vector<T> alone;
        ASSERT_EQ(call_guarded(alone, n, [&](T* dx) { return simd_backward<T>(y.data() + r * n, dy.data() + r * n, dx, 1, n); }),
                  SOFTCERT_OK);
        EXPECT_EQ(0, std::memcmp(alone.data(), batch.data() + r * n, n * sizeof(T))) << "n=" << n << " row " << r;
      }
    }
  });
}

// How far dx_i cancels: the largest |y_i dy_i| / |dx_i| of the row (inf where some dx_i = 0 while
// y_i dy_i is not).
template <typename T>
double cancellation(const Case<T>& c) {
  double worst = 0;
  for (std::size_t i = 0; i < c.x.size(); ++i) {
    const long double term = std::fabs(static_cast<long double>(c.x[i]) * c.dy[i]);
    if (term == 0) continue;
    worst = std::max(worst, c.exact[i].hi == 0 ? inf<double> : static_cast<double>(term / std::fabs(c.exact[i].hi)));
  }
  return worst;
}

// Rows designed to defeat the f64-lane bound: every one must still be within 1 ULP.
TYPED_TEST(SimdBackward, CancellingRowsWithinOneUlpOnEveryTarget) {
  using T = TypeParam;
  std::mt19937_64 rng(41);
  std::vector<Case<T>> cases;
  for (std::size_t k = 0; k < 60; ++k) {
    const std::size_t n = 1 + rng() % 67;
    const std::vector<T> y = probabilities<T>(rng, n, k % 2 ? 1 : 6);
    std::vector<T> dy = normal<T>(rng, n);
    // dy_i ≈ s: dy_i = rest / (1 - y_i), rest = Σ_{j != i} y_j dy_j, and its neighbours in T.
    const std::size_t i = rng() % n;
    long double rest = 0;
    for (std::size_t j = 0; j < n; ++j) rest += j == i ? 0.0L : static_cast<long double>(y[j]) * dy[j];
    const T fixed = static_cast<T>(rest / (1 - static_cast<long double>(y[i])));
    for (int step : {-2, -1, 0, 1, 2}) {
      dy[i] = fixed;
      for (int s = 0; s < std::abs(step); ++s) dy[i] = std::nextafter(dy[i], step < 0 ? -inf<T> : inf<T>);
      cases.push_back(backward_case(y, dy));
    }
    // A constant dy: dx = y (c - c Σ y), Σ y within n/2 ULPs of 1 (the Jacobian's rows sum to 0).
    cases.push_back(backward_case(y, std::vector<T>(n, k % 3 ? T(0.7) : T(-1e30))));
    // The dot product the remainder of huge terms: dy = ±2^40 on all entries but the last, which
    // cancels their sum to a rounding, and small dy_j here and there.
    if (n >= 3) {
      std::vector<T> big(n);
      long double sum = 0;
      for (std::size_t j = 0; j + 1 < n; ++j) {
        big[j] = (rng() % 2 ? 1 : -1) * T(0x1p40) * (1 + T(j) / 64);
        if (j % 4 == 1) big[j] = std::normal_distribution<T>(0, 1)(rng);
        sum += static_cast<long double>(y[j]) * big[j];
      }
      big[n - 1] = static_cast<T>(-sum / y[n - 1]);
      cases.push_back(backward_case(y, big));
    }
    // One-hot and two-hot y: dx exactly 0 where the dot is dy_i itself.
    std::vector<T> hot(n, 0);
    hot[i] = 1;
    cases.push_back(backward_case(hot, dy));
    if (n >= 2) {
      hot[i] = hot[(i + 1) % n] = 0.5;
      std::vector<T> same = dy;
      same[(i + 1) % n] = same[i];
      cases.push_back(backward_case(hot, same));
    }
  }
  // s exactly dy_k, or within a few 2^-80 of it, assembled from products whose sub-ulp parts
  // cancel: the bound cannot decide these, the exact routine does. y_k = 1/2 and short y_j, dy_j
  // elsewhere make rest = Σ_{j != k} y_j dy_j short, and dy_k = 2 rest solves dy_k = rest + dy_k/2.
  for (std::size_t k = 0; k < 40; ++k) {
    const std::size_t n = 6 + rng() % 60;
    std::vector<T> y(n), dy(n);
    for (std::size_t j = 0; j < n; ++j) {
      y[j] = static_cast<T>(1 + rng() % 63) / 64;
      dy[j] = static_cast<T>(static_cast<int>(rng() % 17) - 8);
    }
    // Pairs of tiny products that cancel (but for t ulp(u) where `off`), in the body and the tail.
    const bool off = k % 2;
    for (std::size_t j : {std::size_t(1), n - 2}) {
      const T t = std::ldexp(static_cast<T>(1 + 2 * (rng() % 8)), -34);
      const T u = std::ldexp(static_cast<T>(1 + 2 * (rng() % 1024)), -40);
      y[j] = y[j + 1] = t;
      dy[j] = u, dy[j + 1] = off ? -std::nextafter(u, inf<T>) : -u;
    }
    const std::size_t at = rng() % 2 ? 0 : n / 2;  // away from the pairs
    y[at] = 0.5;
    long double rest = 0;
    for (std::size_t j = 0; j < n; ++j) rest += j == at ? 0.0L : static_cast<long double>(y[j]) * dy[j];
    dy[at] = static_cast<T>(2 * rest);
    cases.push_back(backward_case(y, dy));
  }
  // The rows do cancel: most lose 20 bits or more to it somewhere.
  const auto deep = std::count_if(cases.begin(), cases.end(), [](const Case<T>& c) { return cancellation(c) > 0x1p20; });
  EXPECT_GT(deep, static_cast<long>(cases.size() / 2)) << deep << " of " << cases.size();
  for_each_target([&](const std::string& target) { expect_within_one_ulp(cases, target + " cancelling rows"); });
}

// Outputs around the largest finite value: dx_0 = -y_0 s, y_0 near 2^(max_exponent - 31) and s
// near 2^28 (dy_0 = 0, y_j in [1, 2) and dy_j near ±2^26 elsewhere). Rounded to the largest finite
// value or to inf as the exact value is, on every target (the portable targets' f64-to-f32
// conversion saturates).
TYPED_TEST(SimdBackward, OutputsAtTheTopOfTheRangeOnEveryTarget) {
  using T = TypeParam;
  std::mt19937_64 rng(47);
  std::uniform_real_distribution<T> unit(1, 2);
  std::vector<Case<T>> cases;
  const int top = std::numeric_limits<T>::max_exponent - 31;
  for (std::size_t k = 0; k < 60; ++k) {
    const std::size_t n = 2 + rng() % 20;
    std::vector<T> y(n), dy(n);
    for (T& v : y) v = unit(rng);
    for (T& v : dy) v = (rng() % 2 ? T(0x1p26) : T(-0x1p26)) * unit(rng);
    y[0] = std::ldexp(unit(rng), top + static_cast<int>(rng() % 4)), dy[0] = 0;
    cases.push_back(backward_case(y, dy));
  }
  const T below = std::ldexp(T(1), std::numeric_limits<T>::max_exponent - 2);
  const auto finite = std::count_if(cases.begin(), cases.end(), [&](const Case<T>& c) {
    return std::any_of(c.exact.begin(), c.exact.end(), [&](const auto& e) { return std::fabs(e.value) > below && std::isfinite(e.value); });
  });
  const auto infinite = std::count_if(cases.begin(), cases.end(), [](const Case<T>& c) {
    return std::any_of(c.exact.begin(), c.exact.end(), [](const auto& e) { return std::isinf(e.value); });
  });
  EXPECT_GT(finite, 5) << "outputs in the top binades";
  EXPECT_GT(infinite, 5) << "outputs past the largest finite value";
  for_each_target([&](const std::string& target) { expect_within_one_ulp(cases, target + " top of the range"); });
}

// Outputs at the bottom: a y_i in [2^(min_exponent - 40), 2^(min_exponent + 20)), beside an
// ordinary row, so that dx_i = y_i (dy_i - s) is subnormal or near the subnormal boundary and
// rounds once from all its bits.
TYPED_TEST(SimdBackward, SubnormalOutputsOnEveryTarget) {
  using T = TypeParam;
  std::mt19937_64 rng(53);
  std::vector<Case<T>> cases;
  const int low = std::numeric_limits<T>::min_exponent;
  for (std::size_t k = 0; k < 80; ++k) {
    const std::size_t n = 2 + rng() % 40;
    std::vector<T> y = probabilities<T>(rng, n, 2);
    const std::size_t at = rng() % n;
    y[at] = std::ldexp(std::uniform_real_distribution<T>(1, 2)(rng), low - 40 + static_cast<int>(rng() % 60));
    cases.push_back(backward_case(y, normal<T>(rng, n)));
  }
  const auto subnormal = std::count_if(cases.begin(), cases.end(), [](const Case<T>& c) {
    return std::any_of(c.exact.begin(), c.exact.end(), [](const auto& e) {
      return e.value != 0 && std::fabs(e.value) < std::numeric_limits<T>::min();
    });
  });
  EXPECT_GT(subnormal, 20) << "rows with subnormal outputs";
  for_each_target([&](const std::string& target) {
    // These rows are the exact routine's (f64) or rounded once from f64 lanes far from a midpoint
    // (f32): correctly rounded, including the outputs just above the smallest normal, whose low
    // part the exact routine once rounded twice (dd::round_scaled).
    EXPECT_EQ(expect_within_one_ulp(cases, target + " subnormal outputs"), 0u);
  });
}

// NaN, ±inf in y, dy or both, at the start, in the vector body and in the tail: plain IEEE
// arithmetic, exactly accurate's; between two regular rows of a batch, which stay what they are
// alone.
TYPED_TEST(SimdBackward, NonFiniteRowsAreAccurateOnesBitForBit) {
  using T = TypeParam;
  std::mt19937_64 rng(43);
  const auto accurate = builtin("accurate").kernels<T>().softmax_backward;
  for_each_target([&](const std::string&) {
    for (std::size_t n : {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 67, 1000}) {
      const std::vector<T> regular = probabilities<T>(rng, n, 2);
      std::vector<T> alone(n);
      const std::vector<T> regular_dy(n, 0.5);
      ASSERT_EQ(simd_backward<T>(regular.data(), regular_dy.data(), alone.data(), 1, n), SOFTCERT_OK);
      for (std::size_t at : {std::size_t(0), n / 2, n - 1}) {
        for (T special : {std::numeric_limits<T>::quiet_NaN(), inf<T>, -inf<T>}) {
          // In y; in dy with y_at 0.25 or 0 (0 · inf is NaN); in both.
          for (int variant = 0; variant < 4; ++variant) {
            std::vector<T> y = probabilities<T>(rng, n, 2), dy = normal<T>(rng, n);
            y[at] = variant == 1 ? T(0.25) : variant == 2 ? T(0) : special;
            if (variant != 0) dy[at] = special;
            std::vector<T> ys = regular, dys = regular_dy;
            ys.insert(ys.end(), y.begin(), y.end()), ys.insert(ys.end(), regular.begin(), regular.end());
            dys.insert(dys.end(), dy.begin(), dy.end()), dys.insert(dys.end(), regular_dy.begin(), regular_dy.end());
            std::vector<T> got(3 * n, -7), want(3 * n, -7);
            ASSERT_EQ(simd_backward<T>(ys.data(), dys.data(), got.data(), 3, n), SOFTCERT_OK);
            ASSERT_EQ(accurate(ys.data(), dys.data(), want.data(), 3, n), SOFTCERT_OK);
            const std::string what = "n=" + std::to_string(n) + " at=" + std::to_string(at) + " special=" +
                                     std::to_string(special) + " variant=" + std::to_string(variant);
            EXPECT_EQ(bytes(got.data() + n, n), bytes(want.data() + n, n)) << what;
            EXPECT_EQ(bytes(got.data(), n), bytes(alone.data(), n)) << what;
            EXPECT_EQ(bytes(got.data() + 2 * n, n), bytes(alone.data(), n)) << what;
          }
        }
      }
    }
  });
}

// dx = y and dx = dy: rows the lanes compute, and rows the exact routine redoes (s the remainder
// of huge cancelling products, or dy_k exactly, with nonzero outputs elsewhere; a non-finite
// entry), give bit for
// bit what they give out of place; mixed in one batch, so that a redone row follows a written one.
TYPED_TEST(SimdBackward, InPlaceGivesWhatOutOfPlaceGives) {
  using T = TypeParam;
  std::mt19937_64 rng(59);
  for_each_target([&](const std::string&) {
    for (std::size_t n : {1, 3, 8, 13, 67, 1000}) {
      std::vector<T> y, dy;
      for (int kind = 0; kind < 5; ++kind) {
        std::vector<T> yr = probabilities<T>(rng, n, 2), dyr = normal<T>(rng, n);
        if (kind == 1) dyr.assign(n, T(0.7));
        if (kind == 2 && n >= 3) {  // ±2^40 with full significands but every fourth, the last cancelling
          long double sum = 0;
          for (std::size_t j = 0; j + 1 < n; ++j) {
            if (j % 4 != 1) dyr[j] = (rng() % 2 ? 1 : -1) * T(0x1p40) * std::uniform_real_distribution<T>(1, 2)(rng);
            sum += static_cast<long double>(yr[j]) * dyr[j];
          }
          dyr[n - 1] = static_cast<T>(-sum / yr[n - 1]);
        }
        if (kind == 3 && n >= 6) {  // as CancellingRows's: s within 2^-80 of dy_k (y_k = 1/2), from short products
          for (std::size_t j = 0; j < n; ++j) {
            yr[j] = static_cast<T>(1 + rng() % 63) / 64;
            dyr[j] = static_cast<T>(static_cast<int>(rng() % 17) - 8);
          }
          yr[1] = yr[2] = T(0x1p-34), dyr[1] = T(0x1p-40), dyr[2] = -std::nextafter(dyr[1], inf<T>);
          yr[0] = 0.5;
          long double rest = 0;
          for (std::size_t j = 1; j < n; ++j) rest += static_cast<long double>(yr[j]) * dyr[j];
          dyr[0] = static_cast<T>(2 * rest);
        }
        if (kind == 4) dyr[n - 1] = inf<T>;
        y.insert(y.end(), yr.begin(), yr.end()), dy.insert(dy.end(), dyr.begin(), dyr.end());
      }
      const std::size_t rows = 5;
      std::vector<T> want(rows * n);
      ASSERT_EQ(simd_backward<T>(y.data(), dy.data(), want.data(), rows, n), SOFTCERT_OK);
      std::vector<T> on_y = y, on_dy = dy;
      ASSERT_EQ(simd_backward<T>(on_y.data(), dy.data(), on_y.data(), rows, n), SOFTCERT_OK);
      ASSERT_EQ(simd_backward<T>(y.data(), on_dy.data(), on_dy.data(), rows, n), SOFTCERT_OK);
      EXPECT_EQ(bytes(on_y.data(), rows * n), bytes(want.data(), rows * n)) << "dx = y, n=" << n;
      EXPECT_EQ(bytes(on_dy.data(), rows * n), bytes(want.data(), rows * n)) << "dx = dy, n=" << n;
    }
  });
}

TYPED_TEST(SimdBackward, BadInputIsRejectedAsAccurateRejectsIt) {
  using T = TypeParam;
  T y[4] = {0.25, 0.25, 0.25, 0.25}, dy[4] = {1, 2, 3, 4}, dx[4] = {};
  const auto both = same_code_as(simd_backward<T>, builtin("accurate").kernels<T>().softmax_backward);
  EXPECT_EQ(both(nullptr, dy, dx, 1, 4), SOFTCERT_ERR_NULL);
  EXPECT_EQ(both(y, nullptr, dx, 1, 4), SOFTCERT_ERR_NULL);
  EXPECT_EQ(both(y, dy, nullptr, 1, 4), SOFTCERT_ERR_NULL);
  EXPECT_EQ(both(y, dy, dx, 0, 4), SOFTCERT_ERR_EMPTY);
  EXPECT_EQ(both(y, dy, dx, 1, 0), SOFTCERT_ERR_EMPTY);
  EXPECT_EQ(both(y, dy, dx, std::size_t(1) << 62, 4), SOFTCERT_ERR_SIZE);
  for (T v : dx) EXPECT_EQ(v, T(0)) << "nothing written on error";
}

}  // namespace
}  // namespace softcert::properties

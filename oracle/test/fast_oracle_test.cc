// The fast paths of fast_oracle.hpp against the MPFR oracle: the same float and exactness
// wherever the fast path answers, on random bit patterns and on the inputs where σ crosses the
// float32 extremes (0, the smallest subnormal, the subnormal range, 1).
//
// The double-double softmax family (f32 softmax, log_softmax, logsumexp; f64 σ): every output
// the fast path decides is compared with the MPFR oracle (encoding of `value`, `exact`, and
// hi + lo within 2^-59 |v| + 2^-1000), on rows of every regime and on adversarial rows (ties,
// exact midpoints, outputs built to land within ~2^-30 ULP of a rounding midpoint). CI compares
// about 10^5 outputs; SOFTCERT_FAST_ORACLE_CASES=10000000 (outputs in all) runs the full check.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>
#include <vector>

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


// ---- the double-double softmax family ----

// Outputs to compare in all (split between the functions below).
std::uint64_t budget() {
  const char* env = std::getenv("SOFTCERT_FAST_ORACLE_CASES");
  return env ? std::strtoull(env, nullptr, 10) : 100000;
}

struct Tally {
  std::uint64_t rows = 0, outputs = 0, fast_rows = 0, fast_outputs = 0;
  std::array<std::uint64_t, 4> near{};  // decided outputs within 2^-10, 2^-20, 2^-25, 2^-30 ULP of a midpoint
  double closest = 1;                   // of a decided output, in ULPs
  double widest = 0;                    // |(hi + lo) - (hi + lo)_MPFR| / |v|, largest seen
  std::uint64_t on_midpoint = 0;        // decided outputs whose hi + lo is a midpoint (the midpoint rule)
  void print(const char* name) const {
    std::printf("[fast oracle] %-12s rows %llu (%llu outputs); the fast path decided %llu rows (%llu outputs, each "
                "compared with MPFR), MPFR alone %llu rows; decided outputs within 2^-10/2^-20/2^-25/2^-30 ULP of a midpoint: %llu/%llu/%llu/%llu, "
                "closest %.3g ULP; %llu exactly on one; hi + lo within 2^%.1f |v| of MPFR's\n",
                name, (unsigned long long)rows, (unsigned long long)outputs, (unsigned long long)fast_rows,
                (unsigned long long)fast_outputs, (unsigned long long)(rows - fast_rows),
                (unsigned long long)near[0], (unsigned long long)near[1], (unsigned long long)near[2],
                (unsigned long long)near[3], closest, (unsigned long long)on_midpoint, widest > 0 ? std::log2(widest) : -INFINITY);
  }
};

// Distance of hi + lo from the nearest rounding midpoint around v, in ULPs of v.
template <typename T>
double midpoint_distance(T v, double hi, double lo) {
  if (!std::isfinite(v) || v == 0) return 1;
  long double down = std::nextafter(v, -std::numeric_limits<T>::infinity());
  long double up = std::nextafter(v, std::numeric_limits<T>::infinity());
  if (std::isinf(up)) up = 2 * static_cast<long double>(v) - down;  // v = ±max: the spacing beside
  if (std::isinf(down)) down = 2 * static_cast<long double>(v) - up;
  // hi - midpoint is exact in long double (64 bits); adding lo rounds once, relative to the gap.
  const auto gap = [&](long double mid) { return std::fabs((static_cast<long double>(hi) - mid) + lo); };
  const long double d = std::min(gap((v + down) / 2), gap((v + up) / 2));
  return static_cast<double>(d / (up - static_cast<long double>(v)));
}

template <typename T>
std::string show(const Exact<T>& e) {
  char b[160];
  std::snprintf(b, sizeof b, "%a (hi %a, lo %a, exact %d)", double(e.value), e.hi, e.lo, int(e.exact));
  return b;
}

std::string show_row(std::span<const float> z) {
  std::string s = "{";
  char b[32];
  for (std::size_t i = 0; i < z.size() && i < 80; ++i) std::snprintf(b, sizeof b, "%s%a", i ? ", " : "", double(z[i])), s += b;
  return s + (z.size() > 80 ? ", ...}" : "}");
}

template <typename T, typename U>
void expect_identical(const Exact<T>& fast, const Exact<T>& slow, const U& where, Tally& t) {
  if constexpr (sizeof(T) == 4) {
    ASSERT_EQ(std::bit_cast<std::uint32_t>(fast.value), std::bit_cast<std::uint32_t>(slow.value))
        << where() << ": fast " << show(fast) << ", MPFR " << show(slow);
  } else {
    ASSERT_EQ(std::bit_cast<std::uint64_t>(fast.value), std::bit_cast<std::uint64_t>(slow.value))
        << where() << ": fast " << show(fast) << ", MPFR " << show(slow);
  }
  ASSERT_EQ(fast.exact, slow.exact) << where() << ": fast " << show(fast) << ", MPFR " << show(slow);
  if (std::isfinite(slow.hi)) {
    // The fast hi + lo is within 2^-59 |v| + 2^-1000 of v; the MPFR one is the midpoint of its
    // last Ziv enclosure, whose width grows with n at the first precision (2p + 20 bits): about
    // 2^-57 |v| seen on long rows. The check allows 2^-45 (2^-21 float ULP).
    const double gap = std::fabs((fast.hi - slow.hi) + (fast.lo - slow.lo));
    ASSERT_LE(gap, 0x1p-45 * std::fabs(slow.hi) + 0x1p-1000)
        << where() << ": fast " << show(fast) << ", MPFR " << show(slow);
    if (std::fabs(slow.hi) > 0x1p-1000) t.widest = std::max(t.widest, gap / std::fabs(slow.hi));
  }
  const double d = midpoint_distance(slow.value, fast.hi, fast.lo);
  if (d == 0) {  // hi + lo on the midpoint: a log_softmax d_i minus an L that underflowed to 0
    ++t.on_midpoint;
    return;
  }
  t.closest = std::min(t.closest, d);
  for (int k = 0; k < 4; ++k) t.near[k] += d < std::ldexp(1.0, k == 0 ? -10 : -15 - 5 * k);
}

enum class Fn { softmax, log_softmax, logsumexp };

// One row through the fast path and the MPFR oracle; the fast path with its fallback must give
// the MPFR answer too.
void check_row(Fn fn, std::span<const float> z, Tally& t) {
  const auto where = [&] { return std::string(fn == Fn::softmax ? "softmax" : fn == Fn::log_softmax ? "log_softmax" : "logsumexp") + " of " + show_row(z); };
  ++t.rows;
  if (fn == Fn::logsumexp) {
    ++t.outputs;
    const std::optional<Exact<float>> fast = fast_oracle::try_logsumexp_f32(z);
    if (!fast) return;
    ++t.fast_rows, ++t.fast_outputs;
    expect_identical(*fast, logsumexp<float>(z), where, t);
    return;
  }
  t.outputs += z.size();
  const auto fast = fn == Fn::softmax ? fast_oracle::try_softmax_f32(z) : fast_oracle::try_log_softmax_f32(z);
  if (!fast) return;
  ++t.fast_rows, t.fast_outputs += z.size();
  const std::vector<Exact<float>> slow = fn == Fn::softmax ? softmax<float>(z) : log_softmax<float>(z);
  ASSERT_EQ(fast->size(), slow.size());
  for (std::size_t i = 0; i < slow.size(); ++i) {
    expect_identical((*fast)[i], slow[i], [&] { return where() + " at " + std::to_string(i); }, t);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

// Rows of every regime the properties use, and then some.
std::vector<float> make_row(std::mt19937_64& rng) {
  auto uni = [&](double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng); };
  auto pick = [&](std::size_t a, std::size_t b) { return std::uniform_int_distribution<std::size_t>(a, b)(rng); };
  std::normal_distribution<double> g(0, 1);
  const std::size_t r = pick(0, 99);
  std::size_t n = r < 70 ? pick(1, 67) : r < 92 ? pick(68, 300) : std::array<std::size_t, 5>{512, 1000, 1024, 2048, 4099}[pick(0, 4)];
  std::vector<float> z(n);
  const int regime = static_cast<int>(pick(0, 11));
  switch (regime) {
    case 0: for (float& x : z) x = float(g(rng)); break;                                  // N(0, 1)
    case 1: { const double sd = uni(3, 60); for (float& x : z) x = float(sd * g(rng)); } break;  // wide spreads
    case 2: {  // huge offsets (the float rounding makes ties)
      const double off = std::array<double, 5>{1e4, -1e4, 3e7, -2e9, 1e30}[pick(0, 4)];
      for (float& x : z) x = float(off + g(rng) * (off > 1e8 || off < -1e8 ? 1e-3 * std::fabs(off) : 1));
    } break;
    case 3:  // near overflow: the shifts are astronomically large
      for (float& x : z) x = float((pick(0, 3) ? 1 : -1) * std::numeric_limits<float>::max() * (1 - uni(0, 1e-3)));
      break;
    case 4: {  // ties: a few distinct values, or all equal (1/n, exact when n is a power of two)
      const std::size_t k = pick(0, 2) == 0 ? 1 : pick(1, 4);
      std::vector<float> v(k);
      for (float& x : v) x = float(g(rng) * 3);
      for (float& x : z) x = v[pick(0, k - 1)];
    } break;
    case 5:  // one dominant
      for (float& x : z) x = float(g(rng));
      z[pick(0, n - 1)] = float(uni(15, 120));
      break;
    case 6: {  // -inf entries among finite ones (at least one finite), or nearly all -inf
      const bool sparse = pick(0, 1);
      for (float& x : z) x = (pick(0, 9) < (sparse ? 9u : 3u)) ? -INFINITY : float(2 * g(rng));
      z[pick(0, n - 1)] = float(g(rng));
    } break;
    case 7:  // subnormal probabilities (and zeros): the others 85 to 110 below the max
      for (float& x : z) x = float(-uni(85, 110));
      z[pick(0, n - 1)] = float(uni(-1, 1));
      break;
    case 8:  // tiny values and differences: subnormal floats, a few ULPs apart
      for (float& x : z) x = std::bit_cast<float>(static_cast<std::uint32_t>(pick(0, 0x00ffffff)) | (pick(0, 1) ? 0x80000000u : 0u));
      break;
    case 9: {  // values a few ULPs apart around a random centre (cancellation in z - max)
      const float c = float(g(rng) * 100);
      for (float& x : z) x = std::bit_cast<float>(std::bit_cast<std::uint32_t>(c) + static_cast<std::uint32_t>(pick(0, 64)));
    } break;
    case 10:  // random finite bit patterns (any exponent)
      for (float& x : z) {
        do x = std::bit_cast<float>(static_cast<std::uint32_t>(rng())); while (!std::isfinite(x));
      }
      break;
    default:  // special rows: NaN, +inf, all -inf (the MPFR oracle answers them)
      for (float& x : z) x = float(g(rng));
      z[pick(0, n - 1)] = std::array<float, 3>{NAN, INFINITY, -INFINITY}[pick(0, 2)];
      if (pick(0, 3) == 0) std::fill(z.begin(), z.end(), -INFINITY);
      break;
  }
  return z;
}

void run_random(Fn fn, std::uint64_t outputs, std::uint64_t seed, const char* name) {
  std::mt19937_64 rng(seed);
  Tally t;
  while (t.outputs < outputs) {
    std::vector<float> z = make_row(rng);
    if (fn == Fn::logsumexp && z.size() > 300) z.resize(67);  // one output per row: keep rows short
    check_row(fn, z, t);
    if (::testing::Test::HasFatalFailure()) return;
  }
  t.print(name);
  EXPECT_GT(t.fast_outputs, t.outputs * 8 / 10) << "a fast path that rarely answers is no fast path";
}

TEST(FastOracle, SoftmaxF32MatchesMpfr) { run_random(Fn::softmax, budget() * 2 / 5, 1, "softmax"); }
TEST(FastOracle, LogSoftmaxF32MatchesMpfr) { run_random(Fn::log_softmax, budget() * 2 / 5, 2, "log_softmax"); }
TEST(FastOracle, LogsumexpF32MatchesMpfr) { run_random(Fn::logsumexp, std::max<std::uint64_t>(budget() / 40, 500), 3, "logsumexp"); }

// Rows whose softmax p_0 (n = 5) or logsumexp (and log_softmax y_0 = -lse) is built to lie
// within about 2^-30 ULP of a rounding midpoint: target S = 1/M (or e^M) for a midpoint M, then
// e^z1 + ... + e^z4 = S - 1 by a cascade, each z_k the float below log of the remaining
// residual (shrunk by 2^-12 so that it stays positive), computed in long double (2^-64).
std::vector<float> near_midpoint_row(std::mt19937_64& rng, bool lse, long double& target) {
  auto uni = [&](double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng); };
  const float f = static_cast<float>(lse ? uni(0.05, 1.05) : uni(0.34, 0.99));
  const long double m = (static_cast<long double>(f) + std::nextafter(f, 2.0f)) / 2;
  target = m;
  const long double s = lse ? std::exp(m) : 1 / m;
  std::vector<float> z{0.0f};
  long double rest = s - 1;
  for (int k = 0; k < 4 && rest > 0; ++k) {
    const float zk = static_cast<float>(std::log(k < 3 ? rest * (1 - 0x1p-12L) : rest));
    z.push_back(zk);
    rest -= std::exp(static_cast<long double>(zk));
  }
  std::shuffle(z.begin(), z.end(), rng);
  return z;
}

TEST(FastOracle, OutputsBuiltNearRoundingMidpoints) {
  std::mt19937_64 rng(4);
  const std::uint64_t rows = std::max<std::uint64_t>(budget() / 500, 200);
  Tally ts, tl, te;
  for (std::uint64_t i = 0; i < rows; ++i) {
    long double target = 0;
    const std::vector<float> a = near_midpoint_row(rng, false, target);
    check_row(Fn::softmax, a, ts);
    const std::vector<float> b = near_midpoint_row(rng, true, target);
    check_row(Fn::log_softmax, b, tl);
    check_row(Fn::logsumexp, b, te);
    if (::testing::Test::HasFatalFailure()) return;
  }
  ts.print("softmax~mid");
  tl.print("log_sm~mid");
  te.print("lse~mid");
  EXPECT_GT(ts.near[2] + tl.near[2] + te.near[2], 0u) << "the construction no longer reaches 2^-25 ULP";
}

// log_softmax where z_i - max is itself a float midpoint (25 bits) and L = log1p(...) is tiny
// (below the bound when d > 70): decided by the midpoint rule, or by MPFR.
TEST(FastOracle, ExactMidpointShifts) {
  std::mt19937_64 rng(5);
  Tally t, te;
  std::uint64_t fallbacks = 0;
  for (int i = 0; i < 2000; ++i) {
    const float d = static_cast<float>(std::uniform_real_distribution<double>(1, 120)(rng));
    const float s = (std::nextafter(d, INFINITY) - d) / 2;  // d + s is a midpoint
    const std::vector<float> z{s, -d};
    fallbacks += !fast_oracle::try_log_softmax_f32(z);
    check_row(Fn::log_softmax, z, t);
    check_row(Fn::logsumexp, z, te);
    const std::vector<Exact<float>> slow = log_softmax<float>(std::span<const float>(z));
    const std::vector<Exact<float>> with_fallback = fast_oracle::log_softmax_f32(z);
    for (std::size_t k = 0; k < z.size(); ++k) {
      ASSERT_EQ(std::bit_cast<std::uint32_t>(with_fallback[k].value), std::bit_cast<std::uint32_t>(slow[k].value)) << show_row(z);
      ASSERT_EQ(with_fallback[k].exact, slow[k].exact);
    }
    if (::testing::Test::HasFatalFailure()) return;
  }
  t.print("log_sm@mid");
  std::printf("[fast oracle] log_sm@mid   %llu of 2000 rows to MPFR\n", (unsigned long long)fallbacks);
}

TEST(FastOracle, SpecialRowsAndExactValues) {
  Tally t;
  const float kMax = std::numeric_limits<float>::max();
  const float inf = INFINITY;
  const std::vector<std::vector<float>> rows = {
      {0.0f}, {-0.0f}, {3.5f}, {-0.0f, -inf}, {-inf, 2.0f, -inf}, {1, 1}, {1, 1, 1}, {7, 7, 7, 7},
      {0.0f, -0.0f}, {1, 1, -inf, 1, 1}, {-inf, -inf}, {NAN, 1}, {inf, 1, inf}, {inf, -inf},
      {0, -1e9f}, {0, -800}, {0, -746}, {0, -745}, {0, -103.5f}, {0, -87.3f}, {1e30f, -1e30f},
      {3.4e38f, 3.4e38f}, {-3.4e38f, -3.4e38f, -3.4e38f}, {0x1p-149f, -0x1p-149f}, {0x1p-149f, 0},
      {kMax, kMax}, {kMax, -kMax}, {kMax, 0}, {kMax, kMax, -kMax, 0x1p103f}, {-kMax, 0x1.fffffep126f}};
  for (const auto& z : rows) {
    for (Fn fn : {Fn::softmax, Fn::log_softmax, Fn::logsumexp}) check_row(fn, z, t);
    if (::testing::Test::HasFatalFailure()) return;
  }
  std::vector<float> ones(64, 1.0f);  // 1/64: exact
  const auto p = fast_oracle::try_softmax_f32(ones);
  ASSERT_TRUE(p);
  EXPECT_TRUE((*p)[0].exact);
  EXPECT_EQ((*p)[0].value, 1.0f / 64);
  std::vector<float> threes(3, 1.0f);  // 1/3: decided, not exact
  const auto q = fast_oracle::try_softmax_f32(threes);
  ASSERT_TRUE(q);
  EXPECT_FALSE((*q)[0].exact);
  for (const auto& z : rows) {  // with the fallback: always the MPFR answer
    const std::vector<Exact<float>> a = fast_oracle::softmax_f32(z), b = softmax<float>(std::span<const float>(z));
    for (std::size_t i = 0; i < z.size(); ++i) ASSERT_EQ(std::bit_cast<std::uint32_t>(a[i].value), std::bit_cast<std::uint32_t>(b[i].value)) << show_row(z);
    const Exact<float> c = fast_oracle::logsumexp_f32(z), d = logsumexp<float>(std::span<const float>(z));
    ASSERT_EQ(std::bit_cast<std::uint32_t>(c.value), std::bit_cast<std::uint32_t>(d.value)) << show_row(z);
  }
}

void check_sigmoid64(double x, Tally& t) {
  ++t.rows, ++t.outputs;
  const std::optional<Exact<double>> fast = fast_oracle::try_sigmoid_f64(x);
  if (!fast) return;
  ++t.fast_rows, ++t.fast_outputs;
  char b[64];
  std::snprintf(b, sizeof b, "sigmoid f64 of %a", x);
  expect_identical(*fast, sigmoid<double>(x), [&] { return std::string(b); }, t);
}

TEST(FastOracle, SigmoidF64MatchesMpfr) {
  std::mt19937_64 rng(6);
  Tally t;
  const std::uint64_t cases = std::max<std::uint64_t>(budget() * 3 / 20, 1000);
  std::uniform_real_distribution<double> near(-45, 45), low(-746, -700);
  for (std::uint64_t i = 0; i < cases; ++i) {
    const int kind = static_cast<int>(i % 8);  // 1/8 where σ is a subnormal double (MPFR decides)
    const double x = kind < 3 ? std::bit_cast<double>(rng()) : kind == 7 ? low(rng) : near(rng);
    check_sigmoid64(x, t);
    if (::testing::Test::HasFatalFailure()) return;
  }
  for (double x : {0.0, -0.0, 0x1p-1074, -0x1p-1074, 1e-300, 36.7, 37.5, 38.0, -745.0, -745.2, -745.6, 709.0, 1e300, -1e300,
                   std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                   std::numeric_limits<double>::quiet_NaN()}) {
    check_sigmoid64(x, t);
    const Exact<double> a = fast_oracle::sigmoid_f64(x), b = sigmoid<double>(x);
    ASSERT_EQ(std::bit_cast<std::uint64_t>(a.value), std::bit_cast<std::uint64_t>(b.value)) << x;
  }
  t.print("sigmoid f64");
  EXPECT_GT(t.fast_outputs, t.outputs * 8 / 10);
}

}  // namespace
}  // namespace softcert::oracle

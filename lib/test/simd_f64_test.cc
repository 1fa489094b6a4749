// simd's f64 softmax, log_softmax and logsumexp (simd_f64.cc) on EVERY Highway target compiled into
// it that this CPU can run: each test forces dispatch to each target in turn
// (hwy::SetSupportedTargetsForTest) and checks
//   - <= 1 ULP against the oracle on every output in every regime of properties/regimes.hpp for
//     f64, every row length 1..67, and long rows; the outputs not correctly rounded are counted
//     and printed (the kernels promise nearly always correct rounding, and shifts z_i - max that
//     are exact midpoints of the double grid must round the way L > 0 pushes them);
//   - hard rows (shifts around -600 and -745.2, z_i - max overflowing near DBL_MAX, logsumexp rows
//     where max + L cancels, tiny L beside far entries) within 1 ULP, and those that go to
//     accurate's row bit for bit accurate's;
//   - special rows (NaN, ±inf, only -inf) and exact results (a sole finite entry, ties, signed
//     zeros) bit for bit as `accurate` gives them;
//   - a batch of rows computes what each row computes alone, and writes nothing outside y; a row
//     too long for the scratch row (terms recomputed in pass 3) agrees with accurate's;
//   - bad input gets accurate's return codes, and nothing written.
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
#include "simd_f64.hpp"
#include "simd_targets.hpp"
#include "softcert/properties/agreement.hpp"

namespace softcert::properties {
namespace {

constexpr double inf = std::numeric_limits<double>::infinity();
constexpr double nan = std::numeric_limits<double>::quiet_NaN();
constexpr double lim = std::numeric_limits<double>::max();
constexpr Function kFunctions[] = {Function::softmax, Function::log_softmax, Function::logsumexp};

const Implementation& accurate() {
  const Implementation* impl = find_builtin("accurate");
  EXPECT_NE(impl, nullptr);
  return *impl;
}

// accurate's kernels with simd_f64.cc's three in place of accurate's.
const Implementation& simd() {
  static const Implementation impl = [] {
    Implementation i = accurate();
    i.name = "simd";
    i.f64.softmax = &lib::simd_softmax_f64;
    i.f64.log_softmax = &lib::simd_log_softmax_f64;
    i.f64.logsumexp = &lib::simd_logsumexp_f64;
    return i;
  }();
  return impl;
}

using lib::for_each_target;

// Outputs that are not the correctly rounded value.
std::size_t misrounded(const Implementation& impl, const std::vector<Case<double>>& cases) {
  std::size_t count = 0;
  for (const Case<double>& c : cases) {
    std::vector<double> out;
    EXPECT_EQ(run(impl, c, out), SOFTCERT_OK);
    for (std::size_t i = 0; i < out.size(); ++i) count += out[i] != c.exact[i].value;
  }
  return count;
}

// measure's checks: nothing declined, nothing over the oracle's bound, <= 1 ULP everywhere.
// Returns the number of outputs not correctly rounded.
std::size_t expect_within_one_ulp(const std::vector<Case<double>>& cases, const std::string& what) {
  const Agreement a = measure<double>(simd(), cases, bound_model_for("simd"));
  const std::size_t wrong = misrounded(simd(), cases);
  std::cout << what << ": " << a.outputs << " outputs, max " << a.max_ulp << " ULP, " << wrong
            << " not correctly rounded\n";
  EXPECT_EQ(a.declined, 0u) << what;
  EXPECT_EQ(a.over_bound, 0u) << what << " worst: " << a.worst;
  EXPECT_LE(a.max_ulp, 1.0) << what << " worst: " << a.worst;
  return wrong;
}

Case<double> row_case(Function f, std::vector<double> z) {
  Case<double> c;
  c.function = f;
  c.x = std::move(z);
  fill_exact(c);
  return c;
}

std::size_t outputs(const std::vector<Case<double>>& cases) {
  std::size_t count = 0;
  for (const Case<double>& c : cases) count += c.exact.size();
  return count;
}

TEST(SimdF64, WithinOneUlpOfTheOracleInEveryRegimeOnEveryTarget) {
  for (Function f : kFunctions) {
    std::vector<Case<double>> cases;
    for (Regime r : kAllRegimes) {
      if (r == Regime::simd_tails || r == Regime::large_n) continue;  // below
      for (std::size_t i = 0; i < 16; ++i) cases.push_back(make_case<double>(f, r, 0xf640000u + i));
    }
    for_each_target([&](const std::string& target) {
      const std::size_t wrong = expect_within_one_ulp(cases, target + " f64 " + std::string(function_name(f)) + " regimes");
      // Nearly always correctly rounded: the bound is 0.5003 ULP (simd_f64.cc).
      EXPECT_LE(wrong, outputs(cases) / 1000) << function_name(f);
    });
  }
}

// Every row length 1..67 (every tail of 2, 4 and 8 f64 lanes), one row alone and in a batch of
// three: within 1 ULP, nothing written outside y, the batch's rows what each gives alone.
TEST(SimdF64, EveryTailLengthOnEveryTarget) {
  for (Function f : kFunctions) {
    std::vector<Case<double>> cases;
    std::set<std::size_t> lengths;
    for (std::uint64_t seed = 0; seed < 67; ++seed) {
      cases.push_back(make_case<double>(f, Regime::simd_tails, seed));
      lengths.insert(cases.back().x.size());
    }
    ASSERT_EQ(lengths.size(), 67u);
    const bool per_row = f == Function::logsumexp;
    for_each_target([&](const std::string& target) {
      const std::size_t wrong = expect_within_one_ulp(cases, target + " f64 " + std::string(function_name(f)) + " tails");
      EXPECT_LE(wrong, outputs(cases) / 1000) << function_name(f);
      for (const Case<double>& c : cases) {
        const std::size_t n = c.x.size(), width = per_row ? 1 : n;
        std::vector<double> x;
        for (int r = 0; r < 3; ++r) x.insert(x.end(), c.x.begin(), c.x.end());
        std::reverse(x.begin() + n, x.begin() + 2 * n);  // the middle row differs
        const auto call = [&](const double* in, double* out, std::size_t rows) {
          return f == Function::softmax       ? lib::simd_softmax_f64(in, out, rows, n)
                 : f == Function::log_softmax ? lib::simd_log_softmax_f64(in, out, rows, n)
                                              : lib::simd_logsumexp_f64(in, out, rows, n);
        };
        std::vector<double> batch;
        ASSERT_EQ(call_guarded(batch, 3 * width, [&](double* y) { return call(x.data(), y, 3); }), SOFTCERT_OK);
        for (std::size_t r = 0; r < 3; ++r) {
          std::vector<double> alone;
          ASSERT_EQ(call_guarded(alone, width, [&](double* y) { return call(x.data() + r * n, y, 1); }), SOFTCERT_OK);
          EXPECT_EQ(0, std::memcmp(alone.data(), batch.data() + r * width, width * sizeof(double)))
              << function_name(f) << " n=" << n << " row " << r;
        }
      }
    });
  }
}

// Long rows: many blocks of the sum's lanes, a row past the scratch's reach (recomputed in pass 3:
// 2^21 + 3 entries, softmax only), -inf entries among them.
TEST(SimdF64, LongRowsOnEveryTarget) {
  std::mt19937_64 rng(53);
  for (Function f : kFunctions) {
    std::vector<Case<double>> cases;
    for (std::size_t n : {4096, 20011, 100000}) {
      std::vector<double> z(n);
      for (double& v : z) v = std::normal_distribution<double>(0, n == 20011 ? 30 : 2)(rng);
      if (n == 20011) z[n / 3] = -inf;
      cases.push_back(row_case(f, z));
    }
    for_each_target([&](const std::string& target) {
      const std::size_t wrong = expect_within_one_ulp(cases, target + " f64 " + std::string(function_name(f)) + " long rows");
      EXPECT_LE(wrong, outputs(cases) / 1000) << function_name(f);
    });
  }
  // Beyond the scratch row (2^21 doubles), where pass 3 recomputes the terms: too long for the
  // oracle, so against accurate, itself within 1 ULP and nearly always correctly rounded.
  const std::size_t n = (std::size_t(1) << 21) + 3;
  std::vector<double> z(n), want(n);
  for (double& v : z) v = std::normal_distribution<double>(0, 3)(rng);
  ASSERT_EQ(accurate().f64.softmax(z.data(), want.data(), 1, n), SOFTCERT_OK);
  for_each_target([&](const std::string& target) {
    std::vector<double> got(n);
    ASSERT_EQ(lib::simd_softmax_f64(z.data(), got.data(), 1, n), SOFTCERT_OK);
    double worst = 0;
    std::size_t differ = 0;
    for (std::size_t i = 0; i < n; ++i) {
      worst = std::max(worst, oracle::ulp_distance(got[i], want[i]));
      differ += got[i] != want[i];
    }
    std::cout << target << " f64 softmax, n = " << n << ": " << differ << " outputs differ from accurate's, by " << worst << " ULP at most\n";
    EXPECT_LE(worst, 1.0) << target;
    EXPECT_LE(differ, n / 1000) << target;
  });
}

// z_i - max exactly a midpoint of the double grid (it needs one bit more than a double holds) with
// a tiny L > 0: log_softmax must round it away from zero, as L pushes it, even where L lies below
// 2^-53 of the midpoint's ULP; every output correctly rounded, on every target.
TEST(SimdF64, ShiftsAtExactMidpointsRoundAsLPushesThem) {
  std::mt19937_64 rng(59);
  std::vector<Case<double>> cases;
  for (std::size_t k = 0; k < 40; ++k) {
    const std::size_t n = 2 + rng() % 40;
    const double top = 40 + std::uniform_real_distribution<double>(0, 1)(rng);  // in [32, 64): ULP 2^-47
    std::vector<double> z(n);
    for (double& v : z) {
      const auto odd = static_cast<double>(2 * (rng() % (std::uint64_t(1) << 40)) + 1);
      // Odd multiples of 2^-48 in (-2^-7, 0): z - top, in [-64, -32), is a midpoint of its grid
      // (2^-47), and L about n e^-40; or odd multiples of 2^-47 in (-41, -40]: z - top, in
      // [-128, -64), a midpoint of its grid (2^-46), and L about n e^-80 = 2^-115 n.
      v = k % 2 ? -odd * 0x1p-48 : -40 - odd * 0x1p-47;
    }
    z[rng() % n] = top;
    cases.push_back(row_case(Function::log_softmax, z));
  }
  for_each_target([&](const std::string& target) {
    EXPECT_EQ(expect_within_one_ulp(cases, target + " f64 log_softmax midpoints"), 0u) << target;
  });
}

// Rows that are hard for pass 2 (shifts in [-745.2, -600): accurate's row), near its thresholds,
// or beside far entries; z - max overflowing near DBL_MAX; -DBL_MAX entries (masks): within 1 ULP.
TEST(SimdF64, HardAndThresholdRowsWithinOneUlpOnEveryTarget) {
  std::mt19937_64 rng(61);
  std::normal_distribution<double> g(0, 2);
  for (Function f : kFunctions) {
    std::vector<Case<double>> cases;
    for (double max : {0.0, 3.5, -700.0, 1e4, -1e300, 1e300}) {
      for (double depth : {599.9, 600.0, 600.1, 650.0, 708.0, 745.1, 745.13, 745.2, 745.25, 746.0, 800.0}) {
        for (std::size_t n : {2, 3, 9, 33}) {
          std::vector<double> z(n);
          for (double& v : z) v = max + g(rng);
          z[rng() % n] = max - depth;
          if (n > 3) z[rng() % n] = max - depth * (1 + 0x1p-40);  // a few of them: n e^-745.2 may show
          if (n > 8) z[rng() % n] = max - depth;
          if (n % 3 == 0) for (std::size_t i = 1; i < n; ++i) z[i] = max - depth - i * 0.01;  // only far ones below the max
          z[0] = max;
          cases.push_back(row_case(f, z));
        }
      }
    }
    // The top of the range: z - max overflows (to accurate's row), or -DBL_MAX masks beside
    // ordinary entries (z - max = -DBL_MAX - max rounds to -DBL_MAX: the term is 0).
    for (std::size_t k = 0; k < 24; ++k) {
      const std::size_t n = 2 + rng() % 12;
      std::vector<double> z(n);
      for (double& v : z) v = k % 2 ? g(rng) : lim * (1 - std::ldexp(std::uniform_real_distribution<double>(0, 1)(rng), -40));
      z[rng() % n] = -lim;
      if (k % 4 == 1) z[rng() % n] = lim / 4;
      cases.push_back(row_case(f, z));
    }
    for_each_target([&](const std::string& target) {
      const std::size_t wrong = expect_within_one_ulp(cases, target + " f64 " + std::string(function_name(f)) + " hard rows");
      EXPECT_LE(wrong, outputs(cases) / 1000) << function_name(f);
    });
  }
}

using Bits = std::vector<std::uint64_t>;
Bits bits(const double* v, std::size_t n) {
  Bits b(n);
  std::memcpy(b.data(), v, n * sizeof(double));
  return b;
}

// Runs f of impl on rows × n, the outputs (one per row for logsumexp) as bits.
Bits run_rows(const Implementation& impl, Function f, const std::vector<double>& x, std::size_t rows, std::size_t n) {
  std::vector<double> y(f == Function::logsumexp ? rows : rows * n, -7.0);
  int status = SOFTCERT_ERR_UNSUPPORTED;
  if (f == Function::softmax) status = impl.f64.softmax(x.data(), y.data(), rows, n);
  if (f == Function::log_softmax) status = impl.f64.log_softmax(x.data(), y.data(), rows, n);
  if (f == Function::logsumexp) status = impl.f64.logsumexp(x.data(), y.data(), rows, n);
  EXPECT_EQ(status, SOFTCERT_OK);
  return bits(y.data(), y.size());
}

// Rows that go to accurate's row whole: bit for bit accurate's. Special rows (NaN, +inf, only -inf
// at the start, in the vector body and in the tail), rows with a shift in [-745.2, -600), rows
// whose max - min overflows; between two regular rows of a batch, which stay what they are alone.
TEST(SimdF64, RowsForAccurateAreAccurateOnesBitForBit) {
  std::mt19937_64 rng(67);
  std::normal_distribution<double> g(0, 4);
  std::vector<std::vector<double>> rows;
  for (std::size_t n : {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 67, 1000}) {
    for (std::size_t at : {std::size_t(0), n / 2, n - 1}) {
      std::vector<double> row(n);
      for (double& v : row) v = g(rng);
      for (double special : {nan, inf}) {
        std::vector<double> r = row;
        r[at] = special;
        rows.push_back(r);
      }
      std::vector<double> two_inf = row;  // k = 2 entries +inf (k = 1 when they coincide)
      two_inf[at] = inf, two_inf[n - 1 - at] = inf;
      rows.push_back(two_inf);
      std::vector<double> nan_and_inf = row;
      nan_and_inf[at] = inf, nan_and_inf[n - 1 - at] = nan;
      rows.push_back(nan_and_inf);
      if (n > 1) {
        std::vector<double> hard = row;  // a shift in [-745.2, -600)
        hard[at] = -inf;
        hard[at] = *std::max_element(hard.begin(), hard.end()) - 601 - 144 * std::uniform_real_distribution<double>(0, 1)(rng);
        rows.push_back(hard);
        std::vector<double> overflow = row;  // max - min overflows
        overflow[at] = -lim, overflow[n - 1 - at] = lim / 2;
        if (at != n - 1 - at) rows.push_back(overflow);
      }
    }
    rows.emplace_back(n, -inf);
    rows.emplace_back(n, inf);
  }
  for_each_target([&](const std::string&) {
    for (const std::vector<double>& row : rows) {
      const std::size_t n = row.size();
      std::vector<double> x(n);
      for (double& v : x) v = g(rng);
      const std::vector<double> regular = x;
      x.insert(x.end(), row.begin(), row.end());
      x.insert(x.end(), regular.begin(), regular.end());
      for (Function f : kFunctions) {
        const Bits got = run_rows(simd(), f, x, 3, n), want = run_rows(accurate(), f, x, 3, n);
        const Bits alone = run_rows(simd(), f, regular, 1, n);
        const std::size_t width = f == Function::logsumexp ? 1 : n;
        const std::string what = std::string(function_name(f)) + " n=" + std::to_string(n) + " " + hex_floats<double>(row);
        EXPECT_EQ(Bits(got.begin() + width, got.begin() + 2 * width), Bits(want.begin() + width, want.begin() + 2 * width)) << what;
        EXPECT_EQ(Bits(got.begin(), got.begin() + width), alone) << what;
        EXPECT_EQ(Bits(got.begin() + 2 * width, got.end()), alone) << what;
      }
    }
  });
}

// logsumexp where max + L cancels (max < 0, lse near 0): rows shifted so that lse is about delta
// in [2^-40, 2^-2]; those the f64 lanes' bound cannot decide are accurate's. Within 1 ULP.
TEST(SimdF64, LogsumexpNearZeroWithinOneUlpOnEveryTarget) {
  std::mt19937_64 rng(71);
  std::normal_distribution<double> g(0, 2);
  std::uniform_real_distribution<double> u(-40, -2);
  std::vector<Case<double>> cases;
  while (cases.size() < 120) {
    const std::size_t n = 2 + rng() % 70;
    std::vector<double> z(n);
    for (double& v : z) v = g(rng);
    long double sum = 0;
    for (double v : z) sum += std::exp(static_cast<long double>(v));
    const double delta = (rng() % 2 ? 1.0 : -1.0) * std::exp2(u(rng));
    const double shift = static_cast<double>(std::log(sum)) - delta;
    for (double& v : z) v -= shift;
    Case<double> c = row_case(Function::logsumexp, z);
    if (std::fabs(c.exact[0].hi) < 0x1p-42) continue;  // below every algorithm's reach
    cases.push_back(c);
  }
  for_each_target([&](const std::string& target) {
    EXPECT_LE(expect_within_one_ulp(cases, target + " f64 logsumexp near 0"), cases.size() / 20);
  });
}

// Exact results: a sole finite entry (±0 among them) among -inf entries, ±0 rows, ties only. Bit
// for bit accurate's (the signs of zeros included), on every target.
TEST(SimdF64, ExactResultsAreAccurateOnesBitForBit) {
  std::vector<std::vector<double>> rows;
  for (std::size_t n : {1, 2, 3, 4, 5, 8, 9, 17}) {
    for (double v : {0.0, -0.0, 3.5, -1e300, lim, -lim, 0x1p-1074}) {
      std::vector<double> sole(n, -inf);
      sole[n / 2] = v;
      rows.push_back(sole);
      rows.emplace_back(n, v);  // ties only: softmax 1/n, log_softmax -log n, lse v + log n
      std::vector<double> zeros(n, 0.0);
      zeros[n - 1] = -0.0;
      rows.push_back(zeros);
    }
  }
  for_each_target([&](const std::string&) {
    for (const std::vector<double>& row : rows) {
      for (Function f : kFunctions) {
        EXPECT_EQ(run_rows(simd(), f, row, 1, row.size()), run_rows(accurate(), f, row, 1, row.size()))
            << function_name(f) << " " << hex_floats<double>(row);
      }
    }
  });
}

TEST(SimdF64, BadInputIsRejectedAsAccurateRejectsIt) {
  double x[4] = {1, 2, 3, 4}, y[4] = {};
  for (Function f : kFunctions) {
    const auto both = [&](const double* in, double* out, std::size_t rows, std::size_t n) {
      const auto mine = f == Function::softmax       ? lib::simd_softmax_f64
                         : f == Function::log_softmax ? lib::simd_log_softmax_f64
                                                      : lib::simd_logsumexp_f64;
      const auto theirs = f == Function::softmax       ? accurate().f64.softmax
                          : f == Function::log_softmax ? accurate().f64.log_softmax
                                                       : accurate().f64.logsumexp;
      const int got = mine(in, out, rows, n);
      EXPECT_EQ(got, theirs(in, out, rows, n)) << function_name(f);
      return got;
    };
    EXPECT_EQ(both(nullptr, y, 1, 4), SOFTCERT_ERR_NULL);
    EXPECT_EQ(both(x, nullptr, 1, 4), SOFTCERT_ERR_NULL);
    EXPECT_EQ(both(x, y, 0, 4), SOFTCERT_ERR_EMPTY);
    EXPECT_EQ(both(x, y, 1, 0), SOFTCERT_ERR_EMPTY);
    EXPECT_EQ(both(x, y, std::size_t(1) << 62, 4), SOFTCERT_ERR_SIZE);
    for (double v : y) EXPECT_EQ(v, 0.0) << "nothing written on error";
  }
}

}  // namespace
}  // namespace softcert::properties

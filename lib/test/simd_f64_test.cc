// simd's f64 kernels (simd_f64.cc) on EVERY Highway target compiled into it that this CPU can
// run: each test forces dispatch to each target in turn (hwy::SetSupportedTargetsForTest) and
// checks for softmax, log_softmax and logsumexp
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
// Then the same for cross-entropy, its gradient, masked softmax and sigmoid, with labels at the
// start, middle and end of rows, on ties of the max and on -inf entries, masks keeping everything,
// nothing or one entry (masked-out outputs exactly +0), rows past the scratch row checked through a
// repeated pattern, and sigmoid densely around 0, ±36.7, -600 to -745.3 (subnormal results) and at
// NaN (payloads and signs as accurate gives them), ±inf and ±0.
// And softmax_temperature the same way: within 1 ULP in every regime (with the regimes' own
// temperatures), every tail length, long rows and rows past the scratch row; at extreme
// temperatures (subnormal, around 2^-512 where the lanes start dividing 2^600 up, 1e-3 to 1e3,
// around the 2^512 split, up to DBL_MAX) with scaled shifts (z_i - max)/t around -600 and -745.2
// and quotients that overflow; special, hard and exact rows bit for bit accurate's at the same t;
// t = 1 bit for bit softmax's; in place; bad temperatures and shapes rejected with accurate's codes.
// It links the oracle (through properties), hence its own executable.
#include <gtest/gtest.h>
#include <hwy/targets.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "double_double.hpp"
#include "simd.hpp"
#include "simd_f64.hpp"
#include "simd_test_support.hpp"
#include "softcert/properties/agreement.hpp"

namespace softcert::properties {
namespace {

constexpr double inf = std::numeric_limits<double>::infinity();
constexpr double nan = std::numeric_limits<double>::quiet_NaN();
constexpr double lim = std::numeric_limits<double>::max();
constexpr Function kFunctions[] = {Function::softmax, Function::log_softmax, Function::logsumexp};

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
  ASSERT_EQ(builtin("accurate").f64.softmax(z.data(), want.data(), 1, n), SOFTCERT_OK);
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

// Rows with deep shifts (in [-745.2, -600): in lanes down to -708.3 and log S - 708.39, accurate's
// row below), near those thresholds, or beside far entries; z - max overflowing near DBL_MAX;
// -DBL_MAX entries (masks): within 1 ULP.
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
    // z - max finite but a step of TwoSum overflowing (|z - max| near DBL_MAX): the properties'
    // special_values battery found accurate's NaN there.
    cases.push_back(row_case(f, {0x1.94831505a645bp+1022, lim}));
    for (std::size_t k = 0; k < 16; ++k) {
      const std::size_t n = 2 + rng() % 6;
      std::vector<double> z(n);
      for (double& v : z) v = std::ldexp(std::uniform_real_distribution<double>(0.5, 1)(rng), 1021 + int(rng() % 3));
      z[rng() % n] = lim;
      if (k % 2) z[rng() % n] = -std::ldexp(std::uniform_real_distribution<double>(0.5, 1)(rng), 1022);
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

// The rows of n entries for accurate's row whole at temperature t (1: plain softmax), around noise
// rows of N(0, 4) · min(t, 1e10) entries, with `at` the start, middle and end of each: NaN or +inf
// at `at`, two +inf, +inf with NaN, a shift (z - max)/t in [-745.2, -708.3), entries of magnitude
// 2^1022 or more, and rows of only -inf or only +inf; extra(rows, n, at) adds a test's own.
template <class Extra>
std::vector<std::vector<double>> rows_for_accurate(std::mt19937_64& rng, double t, Extra&& extra) {
  std::normal_distribution<double> g(0, 4);
  std::vector<std::vector<double>> rows;
  for (std::size_t n : {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 67, 1000}) {
    for (std::size_t at : {std::size_t(0), n / 2, n - 1}) {
      std::vector<double> row(n);
      for (double& v : row) v = g(rng) * std::min(t, 1e10);
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
        std::vector<double> hard = row;  // a (scaled) shift in [-745.2, -708.3)
        hard[at] = -inf;
        const double depth = 708.5 + 36.5 * std::uniform_real_distribution<double>(0, 1)(rng);
        hard[at] = *std::max_element(hard.begin(), hard.end()) - depth * t;
        if (std::isfinite(hard[at])) rows.push_back(hard);
        std::vector<double> overflow = row;  // max - min overflows: entries of magnitude 2^1022 or more
        overflow[at] = -lim, overflow[n - 1 - at] = lim / 2;
        if (at != n - 1 - at) rows.push_back(overflow);
      }
      extra(rows, n, at);
    }
    rows.emplace_back(n, -inf);
    rows.emplace_back(n, inf);
  }
  return rows;
}

// Rows that go to accurate's row whole (rows_for_accurate): bit for bit accurate's; between two
// regular rows of a batch, which stay what they are alone.
TEST(SimdF64, RowsForAccurateAreAccurateOnesBitForBit) {
  std::mt19937_64 rng(67);
  std::normal_distribution<double> g(0, 4);
  const std::vector<std::vector<double>> rows = rows_for_accurate(rng, 1, [](auto&, std::size_t, std::size_t) {});
  for_each_target([&](const std::string&) {
    for (const std::vector<double>& row : rows) {
      const std::size_t n = row.size();
      std::vector<double> x(n);
      for (double& v : x) v = g(rng);
      const std::vector<double> regular = x;
      x.insert(x.end(), row.begin(), row.end());
      x.insert(x.end(), regular.begin(), regular.end());
      for (Function f : kFunctions) {
        const Bits got = run_rows(builtin("simd"), f, x, 3, n), want = run_rows(builtin("accurate"), f, x, 3, n);
        const Bits alone = run_rows(builtin("simd"), f, regular, 1, n);
        const std::size_t width = f == Function::logsumexp ? 1 : n;
        const std::string what = std::string(function_name(f)) + " n=" + std::to_string(n) + " " + hex_floats<double>(row);
        EXPECT_EQ(Bits(got.begin() + width, got.begin() + 2 * width), Bits(want.begin() + width, want.begin() + 2 * width)) << what;
        EXPECT_EQ(Bits(got.begin(), got.begin() + width), alone) << what;
        EXPECT_EQ(Bits(got.begin() + 2 * width, got.end()), alone) << what;
      }
    }
  });
}

// In place (y = x): what out of place gives, hard rows among them (pass 2 finds a shift in
// [-745.2, -708.3) only after it has computed terms; accurate's row must then see z untouched).
TEST(SimdF64, InPlaceGivesWhatOutOfPlaceGives) {
  std::mt19937_64 rng(71);
  std::normal_distribution<double> g(0, 3);
  const Implementation& simd = builtin("simd");
  for_each_target([&](const std::string&) {
    for (std::size_t n : {1, 3, 4, 9, 33, 200}) {
      for (int hard = 0; hard < 2; ++hard) {
        std::vector<double> z(n);
        for (double& v : z) v = g(rng);
        if (hard && n > 1) z[n - 1] = *std::max_element(z.begin(), z.end()) - 720;  // a shift in [-745.2, -708.3)
        std::vector<std::uint8_t> keep(n, 1);
        const std::int64_t label = static_cast<std::int64_t>(n / 2);
        const auto check = [&](const char* what, auto&& kernel) {
          std::vector<double> out(n), in_place = z;
          ASSERT_EQ(kernel(z.data(), out.data()), SOFTCERT_OK);
          ASSERT_EQ(kernel(in_place.data(), in_place.data()), SOFTCERT_OK);
          EXPECT_EQ(bits(in_place.data(), n), bits(out.data(), n)) << what << " n=" << n << " hard=" << hard;
        };
        check("softmax", [&](const double* x, double* y) { return simd.f64.softmax(x, y, 1, n); });
        check("log_softmax", [&](const double* x, double* y) { return simd.f64.log_softmax(x, y, 1, n); });
        check("masked_softmax", [&](const double* x, double* y) { return simd.f64.masked_softmax(x, keep.data(), y, 1, n); });
        check("cross_entropy_grad", [&](const double* x, double* y) { return simd.f64.cross_entropy_grad(x, &label, y, 1, n); });
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
        EXPECT_EQ(run_rows(builtin("simd"), f, row, 1, row.size()), run_rows(builtin("accurate"), f, row, 1, row.size()))
            << function_name(f) << " " << hex_floats<double>(row);
      }
    }
  });
}

TEST(SimdF64, BadInputIsRejectedAsAccurateRejectsIt) {
  double x[4] = {1, 2, 3, 4}, y[4] = {};
  for (Function f : kFunctions) {
    SCOPED_TRACE(function_name(f));
    const auto both = same_code_as(f == Function::softmax       ? lib::simd_softmax_f64
                                   : f == Function::log_softmax ? lib::simd_log_softmax_f64
                                                                : lib::simd_logsumexp_f64,
                                   f == Function::softmax       ? builtin("accurate").f64.softmax
                                   : f == Function::log_softmax ? builtin("accurate").f64.log_softmax
                                                                : builtin("accurate").f64.logsumexp);
    EXPECT_EQ(both(nullptr, y, 1, 4), SOFTCERT_ERR_NULL);
    EXPECT_EQ(both(x, nullptr, 1, 4), SOFTCERT_ERR_NULL);
    EXPECT_EQ(both(x, y, 0, 4), SOFTCERT_ERR_EMPTY);
    EXPECT_EQ(both(x, y, 1, 0), SOFTCERT_ERR_EMPTY);
    EXPECT_EQ(both(x, y, std::size_t(1) << 62, 4), SOFTCERT_ERR_SIZE);
    for (double v : y) EXPECT_EQ(v, 0.0) << "nothing written on error";
  }
}


// ---------------------------------------------------------------------------------------------
// Cross-entropy, its gradient, masked softmax and sigmoid.

constexpr Function kLabelledMaskedAndSigmoid[] = {Function::cross_entropy, Function::cross_entropy_grad, Function::masked_softmax,
                                      Function::sigmoid};

bool labelled(Function f) { return f == Function::cross_entropy || f == Function::cross_entropy_grad; }

Case<double> with_label(Case<double> c, std::size_t label) {
  c.label = static_cast<std::int64_t>(label);
  fill_exact(c);
  return c;
}

Case<double> with_keep(Case<double> c, std::vector<std::uint8_t> keep) {
  c.keep = std::move(keep);
  fill_exact(c);
  return c;
}

// c, and for cross-entropy c with its label at the start, middle and end of its row, at the first
// and last entries equal to its max (a tie where they differ) and on its first -inf entry; for
// masked softmax c with nothing masked, with its first max masked out and with only one entry kept.
void push_variants(std::vector<Case<double>>& cases, const Case<double>& c) {
  cases.push_back(c);
  const std::size_t n = c.x.size();
  if (labelled(c.function)) {
    std::set<std::size_t> at = {0, n / 2, n - 1};
    const auto top = std::max_element(c.x.begin(), c.x.end());
    at.insert(static_cast<std::size_t>(top - c.x.begin()));
    for (std::size_t i = n; i-- > 0;) {
      if (c.x[i] == *top) {
        at.insert(i);
        break;
      }
    }
    const auto neg_inf = std::find(c.x.begin(), c.x.end(), -inf);
    if (neg_inf != c.x.end()) at.insert(static_cast<std::size_t>(neg_inf - c.x.begin()));
    at.erase(static_cast<std::size_t>(c.label));
    for (std::size_t i : at) cases.push_back(with_label(c, i));
  }
  if (c.function == Function::masked_softmax) {
    cases.push_back(with_keep(c, std::vector<std::uint8_t>(n, 1)));
    std::vector<std::uint8_t> keep(n, 1);
    keep[static_cast<std::size_t>(std::max_element(c.x.begin(), c.x.end()) - c.x.begin())] = 0;
    cases.push_back(with_keep(c, keep));
    std::vector<std::uint8_t> one(n, 0);
    one[n / 2] = 1;
    cases.push_back(with_keep(c, one));
  }
}

// The case of f in regime r from seed: make_case's, but for sigmoid the regime's whole row as inputs.
Case<double> new_case(Function f, Regime r, std::uint64_t seed) {
  if (f != Function::sigmoid) return make_case<double>(f, r, seed);
  std::mt19937_64 rng(seed);
  return row_case(f, r == Regime::simd_tails ? make_row<double>(r, rng, simd_tail_size(seed)) : make_row<double>(r, rng));
}

// Every masked-out output of masked-softmax cases is exactly +0.
void expect_masked_out_positive_zero(const std::vector<Case<double>>& cases) {
  for (const Case<double>& c : cases) {
    if (c.function != Function::masked_softmax) continue;
    std::vector<double> out;
    ASSERT_EQ(run(builtin("simd"), c, out), SOFTCERT_OK);
    for (std::size_t i = 0; i < out.size(); ++i) {
      if (!c.keep[i]) {
        EXPECT_EQ(std::bit_cast<std::uint64_t>(out[i]), 0u) << describe_inputs(c) << " at " << i;
      }
    }
  }
}

TEST(SimdF64, LabelledMaskedAndSigmoidWithinOneUlpOfTheOracleInEveryRegimeOnEveryTarget) {
  for (Function f : kLabelledMaskedAndSigmoid) {
    std::vector<Case<double>> cases;
    for (Regime r : kAllRegimes) {
      if (r == Regime::simd_tails || r == Regime::large_n) continue;  // below
      for (std::size_t i = 0; i < 24; ++i) push_variants(cases, new_case(f, r, 0xf64c000u + i));
    }
    for_each_target([&](const std::string& target) {
      const std::size_t wrong = expect_within_one_ulp(cases, target + " f64 " + std::string(function_name(f)) + " regimes");
      EXPECT_LE(wrong, outputs(cases) / 1000) << function_name(f);
      expect_masked_out_positive_zero(cases);
    });
  }
}

// f's simd kernel on rows × n of x; labels and keep (rows × n) as f needs them; sigmoid takes the
// rows × n values as one array.
int call_simd(Function f, const double* x, const std::int64_t* labels, const std::uint8_t* keep, double* y,
              std::size_t rows, std::size_t n) {
  switch (f) {
    case Function::cross_entropy: return lib::simd_cross_entropy_f64(x, labels, y, rows, n);
    case Function::cross_entropy_grad: return lib::simd_cross_entropy_grad_f64(x, labels, y, rows, n);
    case Function::masked_softmax: return lib::simd_masked_softmax_f64(x, keep, y, rows, n);
    case Function::sigmoid: return lib::simd_sigmoid_f64(x, y, rows * n);
    default: return SOFTCERT_ERR_UNSUPPORTED;
  }
}

// Every row length 1..67 (every tail of 2, 4 and 8 lanes) with the variants above: within 1 ULP;
// a batch of three rows (the middle one reversed, with its label and mask reversed too) gives each
// row what it gives alone, and nothing is written outside the output.
TEST(SimdF64, LabelledMaskedAndSigmoidOnEveryTailLengthOnEveryTarget) {
  for (Function f : kLabelledMaskedAndSigmoid) {
    std::vector<Case<double>> cases, rows;
    for (std::uint64_t seed = 0; seed < 67; ++seed) {
      rows.push_back(new_case(f, Regime::simd_tails, seed));
      push_variants(cases, rows.back());
    }
    const bool per_row = f == Function::cross_entropy;
    for_each_target([&](const std::string& target) {
      const std::size_t wrong = expect_within_one_ulp(cases, target + " f64 " + std::string(function_name(f)) + " tails");
      EXPECT_LE(wrong, outputs(cases) / 1000) << function_name(f);
      expect_masked_out_positive_zero(cases);
      for (const Case<double>& c : rows) {
        const std::size_t n = c.x.size(), width = per_row ? 1 : n;
        std::vector<double> x;
        std::vector<std::uint8_t> keep;
        for (int r = 0; r < 3; ++r) {
          x.insert(x.end(), c.x.begin(), c.x.end());
          keep.insert(keep.end(), c.keep.begin(), c.keep.end());
        }
        std::reverse(x.begin() + n, x.begin() + 2 * n);
        if (!keep.empty()) std::reverse(keep.begin() + n, keep.begin() + 2 * n);
        const std::vector<std::int64_t> labels = {c.label, static_cast<std::int64_t>(n - 1) - c.label, c.label};
        std::vector<double> batch;
        ASSERT_EQ(call_guarded(batch, 3 * width,
                               [&](double* y) { return call_simd(f, x.data(), labels.data(), keep.data(), y, 3, n); }),
                  SOFTCERT_OK);
        for (std::size_t r = 0; r < 3; ++r) {
          std::vector<double> alone;
          const std::uint8_t* k = keep.empty() ? nullptr : keep.data() + r * n;
          const auto one_row = [&](double* y) { return call_simd(f, x.data() + r * n, &labels[r], k, y, 1, n); };
          ASSERT_EQ(call_guarded(alone, width, one_row), SOFTCERT_OK);
          EXPECT_EQ(bits(alone.data(), width), bits(batch.data() + r * width, width))
              << function_name(f) << " n=" << n << " row " << r;
        }
      }
    });
  }
}

// Rows near pass 2's thresholds (shifts around -600 and -745.2: accurate's rows between), far
// entries beside a tiny rest, z - max overflowing, -DBL_MAX masks: within 1 ULP, labels at the max,
// on the deep entry and elsewhere, masks keeping the max or not.
TEST(SimdF64, LabelledMaskedAndSigmoidOnHardAndThresholdRowsWithinOneUlpOnEveryTarget) {
  std::mt19937_64 rng(79);
  std::normal_distribution<double> g(0, 2);
  std::vector<std::vector<double>> rows;
  std::vector<std::size_t> deep_at;
  for (double max : {0.0, 3.5, -700.0, 1e4, -1e300, 1e300}) {
    for (double depth : {599.9, 600.0, 600.1, 650.0, 708.0, 745.1, 745.13, 745.2, 745.25, 746.0, 800.0}) {
      for (std::size_t n : {2, 3, 9, 33}) {
        std::vector<double> z(n);
        for (double& v : z) v = max + g(rng);
        const std::size_t deep = 1 + rng() % (n - 1);
        z[deep] = max - depth;
        if (n > 3) z[1 + rng() % (n - 1)] = max - depth * (1 + 0x1p-40);
        if (n % 3 == 0) for (std::size_t i = 1; i < n; ++i) z[i] = max - depth - static_cast<double>(i) * 0.01;
        z[0] = max;
        rows.push_back(z);
        deep_at.push_back(deep);
      }
    }
  }
  for (std::size_t k = 0; k < 24; ++k) {
    const std::size_t n = 2 + rng() % 12;
    std::vector<double> z(n);
    for (double& v : z) v = k % 2 ? g(rng) : lim * (1 - std::ldexp(std::uniform_real_distribution<double>(0, 1)(rng), -40));
    const std::size_t at = rng() % n;
    z[at] = -lim;
    if (k % 4 == 1) z[rng() % n] = lim / 4;
    rows.push_back(z);
    deep_at.push_back(at);
  }
  for (Function f : {Function::cross_entropy, Function::cross_entropy_grad, Function::masked_softmax}) {
    std::vector<Case<double>> cases;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      Case<double> c;
      c.function = f;
      c.x = rows[i];
      const std::size_t n = c.x.size();
      if (f == Function::masked_softmax) {
        c.keep.assign(n, 1);
        cases.push_back(with_keep(c, c.keep));
        for (auto& k : c.keep) k = rng() % 4 != 0;
        cases.push_back(with_keep(c, c.keep));
      } else {
        for (std::size_t label : {std::size_t(0), deep_at[i], n - 1}) cases.push_back(with_label(c, label));
      }
    }
    for_each_target([&](const std::string& target) {
      const std::size_t wrong = expect_within_one_ulp(cases, target + " f64 " + std::string(function_name(f)) + " hard rows");
      EXPECT_LE(wrong, outputs(cases) / 1000) << function_name(f);
      expect_masked_out_positive_zero(cases);
    });
  }
}

// Long rows (many blocks of the sum's lanes, -inf entries among them) against the oracle.
TEST(SimdF64, LabelledMaskedAndSigmoidOnLongRowsOnEveryTarget) {
  std::mt19937_64 rng(83);
  for (Function f : {Function::cross_entropy, Function::cross_entropy_grad, Function::masked_softmax}) {
    std::vector<Case<double>> cases;
    for (std::size_t n : {4096, 20011}) {
      Case<double> c;
      c.function = f;
      c.x.resize(n);
      for (double& v : c.x) v = std::normal_distribution<double>(0, n == 20011 ? 30 : 2)(rng);
      if (n == 20011) c.x[n / 3] = -inf;
      c.label = static_cast<std::int64_t>(rng() % n);
      c.keep.resize(n);
      for (auto& k : c.keep) k = rng() % 8 != 0;
      fill_exact(c);
      cases.push_back(c);
    }
    for_each_target([&](const std::string& target) {
      const std::size_t wrong = expect_within_one_ulp(cases, target + " f64 " + std::string(function_name(f)) + " long rows");
      EXPECT_LE(wrong, outputs(cases) / 1000) << function_name(f);
    });
  }
}

// Rows past the scratch row, where pass 3 recomputes the terms (for masked softmax from y itself):
// a pattern of P entries repeated K = 2^12 times, whose exact softmax is the pattern's divided by K
// (exactly, in the normal range), so the oracle of the short pattern checks every output; g_y =
// p_y - 1 from the pattern's double-double. Within 1 ULP, nearly all correctly rounded.
TEST(SimdF64, LabelledMaskedAndSigmoidPastTheScratchRowOnEveryTarget) {
  constexpr std::size_t kPeriod = 521, kCopies = std::size_t(1) << 12, n = kPeriod * kCopies;  // > 2^21
  std::mt19937_64 rng(107);
  std::vector<double> pattern(kPeriod);
  for (double& v : pattern) v = std::normal_distribution<double>(0, 3)(rng);
  pattern[7] = -inf;
  std::vector<std::uint8_t> pattern_keep(kPeriod);
  for (auto& k : pattern_keep) k = rng() % 8 != 0;
  std::vector<double> z;
  std::vector<std::uint8_t> keep;
  for (std::size_t k = 0; k < kCopies; ++k) {
    z.insert(z.end(), pattern.begin(), pattern.end());
    keep.insert(keep.end(), pattern_keep.begin(), pattern_keep.end());
  }
  const auto scaled = [&](const oracle::Exact<double>& e) {
    return oracle::Exact<double>{std::ldexp(e.value, -12), std::ldexp(e.hi, -12), std::ldexp(e.lo, -12), e.exact};
  };
  const std::int64_t label = static_cast<std::int64_t>(n / 2 + 3);
  for (Function f : {Function::cross_entropy_grad, Function::masked_softmax}) {
    const bool grad = f == Function::cross_entropy_grad;
    std::vector<oracle::Exact<double>> short_exact =
        grad ? oracle::softmax<double>(pattern) : oracle::masked_softmax<double>(pattern, pattern_keep);
    for (auto& e : short_exact) e = scaled(e);
    // -(1 - p_y) as a double-double, p_y < 2^-12.
    const oracle::Exact<double>& py = short_exact[static_cast<std::size_t>(label) % kPeriod];
    const lib::dd::DD sum = lib::dd::two_sum(-1, py.hi);
    const lib::dd::DD gy = lib::dd::fast_two_sum(sum.hi, sum.lo + py.lo);
    const oracle::Exact<double> label_exact{gy.hi, gy.hi, gy.lo, false};  // gy.hi the rounding (|gy.lo| < ULP/2)
    for_each_target([&](const std::string& target) {
      std::vector<double> got(n);
      ASSERT_EQ(call_simd(f, z.data(), &label, keep.data(), got.data(), 1, n), SOFTCERT_OK);
      double worst = 0;
      std::size_t wrong = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const oracle::Exact<double>& e = grad && i == static_cast<std::size_t>(label) ? label_exact : short_exact[i % kPeriod];
        worst = std::max(worst, oracle::ulp_error(got[i], e));
        wrong += got[i] != e.value;
      }
      std::cout << target << " f64 " << function_name(f) << ", n = " << n << " (past the scratch row): max " << worst
                << " ULP, " << wrong << " not correctly rounded\n";
      EXPECT_LE(worst, 1.0) << target;
      EXPECT_LE(wrong, n / 1000) << target;
    });
  }
}

// Bits of f's outputs from impl on rows × n of x, with labels (one per row) or keep (rows × n).
Bits run_new(const Implementation& impl, Function f, const std::vector<double>& x, const std::vector<std::int64_t>& labels,
             const std::vector<std::uint8_t>& keep, std::size_t rows, std::size_t n) {
  std::vector<double> y(f == Function::cross_entropy ? rows : rows * n, -7.0);
  int status = SOFTCERT_ERR_UNSUPPORTED;
  if (f == Function::cross_entropy) status = impl.f64.cross_entropy(x.data(), labels.data(), y.data(), rows, n);
  if (f == Function::cross_entropy_grad) status = impl.f64.cross_entropy_grad(x.data(), labels.data(), y.data(), rows, n);
  if (f == Function::masked_softmax) status = impl.f64.masked_softmax(x.data(), keep.data(), y.data(), rows, n);
  if (f == Function::sigmoid) status = impl.f64.sigmoid(x.data(), y.data(), rows * n);
  EXPECT_EQ(status, SOFTCERT_OK);
  return bits(y.data(), y.size());
}

// Rows that go to accurate's row whole: bit for bit accurate's. Special rows (NaN, +inf, both, only
// -inf, only +inf, at the start, middle and end), labels on the special entry and off it; masks
// keeping everything, all but another entry, nothing, or only the special entry; shifts in
// [-745.2, -708.3) and max - min overflowing; exact results (n = 1, ties only, a sole finite entry,
// signed zeros, a label on a -inf entry: cross-entropy +inf, g_y = -1). Each between two regular
// rows of a batch, which stay what they are alone.
TEST(SimdF64, LabelledMaskedAndSigmoidGiveAccurateOnesRowsBitForBit) {
  std::mt19937_64 rng(89);
  std::normal_distribution<double> g(0, 4);
  struct Row {
    std::vector<double> z;
    std::size_t at;  // the special entry
  };
  std::vector<Row> rows;
  for (std::size_t n : {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 67, 257}) {
    for (std::size_t at : {std::size_t(0), n / 2, n - 1}) {
      std::vector<double> row(n);
      for (double& v : row) v = g(rng);
      for (double special : {nan, inf}) {
        std::vector<double> r = row;
        r[at] = special;
        rows.push_back({r, at});
      }
      std::vector<double> two_inf = row;
      two_inf[at] = inf, two_inf[n - 1 - at] = inf;
      rows.push_back({two_inf, at});
      std::vector<double> nan_and_inf = row;
      nan_and_inf[at] = inf, nan_and_inf[n - 1 - at] = nan;
      rows.push_back({nan_and_inf, at});
      if (n > 1) {
        std::vector<double> hard = row;
        hard[at] = -inf;
        hard[at] = *std::max_element(hard.begin(), hard.end()) - 708.5 - 36.5 * std::uniform_real_distribution<double>(0, 1)(rng);
        rows.push_back({hard, at});
        std::vector<double> overflow = row;
        overflow[at] = -lim, overflow[n - 1 - at] = lim / 2;
        if (at != n - 1 - at) rows.push_back({overflow, at});
      }
      for (double v : {0.0, -0.0, 3.5, -1e300, lim, 0x1p-1074}) {
        std::vector<double> sole(n, -inf);
        sole[n - 1 - at] = v;
        rows.push_back({sole, at});
        rows.push_back({std::vector<double>(n, v), at});
      }
    }
    rows.push_back({std::vector<double>(n, -inf), 0});
    rows.push_back({std::vector<double>(n, inf), n - 1});
  }
  // The trials: a function, a special row between two copies of a regular one, labels or masks.
  struct Trial {
    Function f;
    std::vector<double> x, regular;
    std::vector<std::int64_t> labels;  // for the three rows
    std::vector<std::uint8_t> keep;    // the special row's mask (all three rows' in the batch)
    Bits want;                         // accurate's outputs on the special row
    std::string what;
  };
  std::vector<Trial> trials;
  for (const Row& row : rows) {
    const std::size_t n = row.z.size();
    std::vector<double> regular(n);
    for (double& v : regular) v = g(rng);
    std::vector<double> x = regular;
    x.insert(x.end(), row.z.begin(), row.z.end());
    x.insert(x.end(), regular.begin(), regular.end());
    const std::string what = "n=" + std::to_string(n) + " " + hex_floats<double>(row.z);
    for (std::size_t label : {row.at, n - 1 - row.at}) {
      for (Function f : {Function::cross_entropy, Function::cross_entropy_grad}) {
        const std::vector<std::int64_t> labels = {std::int64_t(n / 3), std::int64_t(label), std::int64_t(n / 3)};
        const Bits want = run_new(builtin("accurate"), f, row.z, {labels[1]}, {}, 1, n);
        trials.push_back({f, x, regular, labels, {}, want, what + " label " + std::to_string(label)});
      }
    }
    std::vector<std::uint8_t> none(n, 0), only(n, 0), but_one(n, 1);
    only[row.at] = 1;
    but_one[n - 1 - row.at] = row.at == n - 1 - row.at;  // the special entry stays kept
    for (const auto& mask : {std::vector<std::uint8_t>(n, 1), none, only, but_one}) {
      std::vector<std::uint8_t> keep(n, 1);
      keep.insert(keep.end(), mask.begin(), mask.end());
      keep.insert(keep.end(), n, 1);
      const Bits want = run_new(builtin("accurate"), Function::masked_softmax, row.z, {}, mask, 1, n);
      trials.push_back({Function::masked_softmax, x, regular, {}, keep, want, what});
    }
  }
  for_each_target([&](const std::string&) {
    for (const Trial& t : trials) {
      const std::size_t n = t.regular.size(), width = t.f == Function::cross_entropy ? 1 : n;
      const Bits got = run_new(builtin("simd"), t.f, t.x, t.labels, t.keep, 3, n);
      const Bits alone = run_new(builtin("simd"), t.f, t.regular, t.labels, std::vector<std::uint8_t>(n, 1), 1, n);
      const std::string what = std::string(function_name(t.f)) + " " + t.what;
      EXPECT_EQ(Bits(got.begin() + width, got.begin() + 2 * width), t.want) << what;
      EXPECT_EQ(Bits(got.begin(), got.begin() + width), alone) << what;
      EXPECT_EQ(Bits(got.begin() + 2 * width, got.end()), alone) << what;
      for (std::size_t i = 0; i < t.keep.size(); ++i) {
        if (!t.keep[i]) {
          EXPECT_EQ(got[i], 0u) << "masked-out entry " << i - n << " " << what;
        }
      }
    }
  });
}

// Sigmoid densely where it is delicate: around 0 (subnormal inputs among them), around ±36.7 (1/(1 +
// e) reaches the last bits below 1, e^2 stops showing in e/(1 + e)), from -600 down to -745.3 (the
// results subnormal below -708.4: accurate's from -708.3), around the clamps, ±DBL_MAX, ±inf:
// within 1 ULP of the oracle, misroundings counted.
TEST(SimdF64, SigmoidDenselyWhereDelicateOnEveryTarget) {
  std::mt19937_64 rng(97);
  const auto uniform = [&](double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); };
  std::vector<double> x = {0.0, -0.0, inf, -inf, lim, -lim, 0x1p-1074, -0x1p-1074, 40, -40, 1e3, -1e3};
  for (int k = 0; k <= 1074; k += 2) x.push_back(std::ldexp(rng() % 2 ? 1.0 : -1.0, -k) * uniform(1, 2));
  for (int i = 0; i < 2000; ++i) x.push_back(uniform(-0x1p-10, 0x1p-10)), x.push_back(uniform(-2, 2));
  for (int i = 0; i < 3000; ++i) x.push_back(uniform(34, 40)), x.push_back(uniform(-40, -34));
  for (int i = 0; i < 4000; ++i) x.push_back(uniform(-745.3, -600));
  // Thresholds: σ = 1 - 2^-53 and its midpoints, the clamps, normal results and the subnormal range.
  for (double t : {36.7368005696771, 37.42994775023705, 36.04365338911715, -36.7368005696771, -37.42994775023705, 40.0,
                   -40.0, -708.3, -708.3964185322641, -745.1332191019411, -745.2, -671.0, -600.0}) {
    double up = t, down = t;
    for (int i = 0; i < 40; ++i) {
      x.push_back(up = std::nextafter(up, inf)), x.push_back(down = std::nextafter(down, -inf));
      x.push_back(t + uniform(-1e-9, 1e-9));
    }
  }
  std::vector<Case<double>> cases;
  for (std::size_t i = 0; i < x.size(); i += 509) {
    const auto end = x.begin() + static_cast<std::ptrdiff_t>(std::min(x.size(), i + 509));
    cases.push_back(row_case(Function::sigmoid, std::vector<double>(x.begin() + static_cast<std::ptrdiff_t>(i), end)));
  }
  for_each_target([&](const std::string& target) {
    const std::size_t wrong = expect_within_one_ulp(cases, target + " f64 sigmoid dense");
    EXPECT_LE(wrong, outputs(cases) / 1000);
  });
}

// Sigmoid's NaN inputs (quiet and signalling, both signs, payloads) and its exact and special
// values at every lane position of a vector and of a tail: bit for bit accurate's, in place too.
TEST(SimdF64, SigmoidSpecialInputsAreAccurateOnesBitForBit) {
  std::mt19937_64 rng(101);
  std::normal_distribution<double> g(0, 10);
  std::vector<double> specials = {inf, -inf, 0.0, -0.0, 0x1p-1074, -0x1p-1074, lim, -lim, -745.2, -745.25, -708.3, -720};
  for (std::uint64_t b : {0x7ff8000000000000ull, 0xfff8000000000000ull, 0x7ff0000000000001ull, 0xfff4000000000123ull,
                          0x7ffdeadbeef00001ull, 0xfff0000000000fffull}) {
    specials.push_back(std::bit_cast<double>(b));
  }
  for_each_target([&](const std::string&) {
    for (double v : specials) {
      for (std::size_t n : {1, 5, 8, 11, 17}) {
        for (std::size_t at = 0; at < n; ++at) {
          std::vector<double> x(n);
          for (double& e : x) e = g(rng);
          x[at] = v;
          const Bits want = run_new(builtin("accurate"), Function::sigmoid, x, {}, {}, 1, n);
          EXPECT_EQ(run_new(builtin("simd"), Function::sigmoid, x, {}, {}, 1, n), want) << hex_floats<double>(x);
          ASSERT_EQ(lib::simd_sigmoid_f64(x.data(), x.data(), n), SOFTCERT_OK);
          EXPECT_EQ(bits(x.data(), n), want) << "in place";
        }
      }
    }
  });
}

TEST(SimdF64, LabelledMaskedAndSigmoidRejectBadInputAsAccurateRejectsIt) {
  double x[4] = {1, 2, 3, 4}, y[4] = {};
  const std::int64_t good[2] = {1, 0}, low[2] = {-1, 0}, high[2] = {4, 0}, second_bad[2] = {1, 2};
  const std::uint8_t keep[4] = {1, 1, 0, 1};
  constexpr std::size_t huge = std::size_t(1) << 62;
  using Labelled = int (*)(const double*, const std::int64_t*, double*, std::size_t, std::size_t);
  const std::pair<Labelled, Labelled> labelled_kernels[] = {
      {lib::simd_cross_entropy_f64, builtin("accurate").f64.cross_entropy},
      {lib::simd_cross_entropy_grad_f64, builtin("accurate").f64.cross_entropy_grad}};
  for (const auto& [mine, theirs] : labelled_kernels) {
    const auto both = same_code_as(mine, theirs);
    EXPECT_EQ(both(nullptr, good, y, 1, 4), SOFTCERT_ERR_NULL);
    EXPECT_EQ(both(x, nullptr, y, 1, 4), SOFTCERT_ERR_NULL);
    EXPECT_EQ(both(x, good, nullptr, 1, 4), SOFTCERT_ERR_NULL);
    EXPECT_EQ(both(x, nullptr, y, 0, 4), SOFTCERT_ERR_NULL);
    EXPECT_EQ(both(x, good, y, 0, 4), SOFTCERT_ERR_EMPTY);
    EXPECT_EQ(both(x, low, y, 1, 0), SOFTCERT_ERR_EMPTY);
    EXPECT_EQ(both(x, low, y, huge, 4), SOFTCERT_ERR_SIZE);
    EXPECT_EQ(both(x, low, y, 1, 4), SOFTCERT_ERR_LABEL);
    EXPECT_EQ(both(x, high, y, 1, 4), SOFTCERT_ERR_LABEL);
    EXPECT_EQ(both(x, second_bad, y, 2, 2), SOFTCERT_ERR_LABEL);  // the first row not written either
  }
  const auto masked = same_code_as(lib::simd_masked_softmax_f64, builtin("accurate").f64.masked_softmax);
  EXPECT_EQ(masked(x, nullptr, y, 1, 4), SOFTCERT_ERR_NULL);
  EXPECT_EQ(masked(x, nullptr, y, 0, 0), SOFTCERT_ERR_NULL);
  EXPECT_EQ(masked(nullptr, keep, y, 1, 4), SOFTCERT_ERR_NULL);
  EXPECT_EQ(masked(x, keep, nullptr, 1, 4), SOFTCERT_ERR_NULL);
  EXPECT_EQ(masked(x, keep, y, 0, 4), SOFTCERT_ERR_EMPTY);
  EXPECT_EQ(masked(x, keep, y, 1, 0), SOFTCERT_ERR_EMPTY);
  EXPECT_EQ(masked(x, keep, y, huge, 4), SOFTCERT_ERR_SIZE);
  const auto sigmoid = same_code_as(lib::simd_sigmoid_f64, builtin("accurate").f64.sigmoid);
  EXPECT_EQ(sigmoid(nullptr, y, 4), SOFTCERT_ERR_NULL);
  EXPECT_EQ(sigmoid(x, nullptr, 4), SOFTCERT_ERR_NULL);
  EXPECT_EQ(sigmoid(x, y, 0), SOFTCERT_ERR_EMPTY);
  EXPECT_EQ(sigmoid(x, y, huge), SOFTCERT_ERR_SIZE);
  for (double v : y) EXPECT_EQ(v, 0.0) << "nothing written on error";
}

// Deep shifts in lanes: rows whose entries lie 600 to 708.2 below the max (terms from e^-600 down
// to 2^-1021.7, their lo parts subnormal below -671.6), a few ordinary entries beside them, so
// that softmax forms those outputs from the unscaled parts (Normalise) and the log-sums and the
// gradient's label entry take the terms as they come: nearly always correctly rounded, as
// elsewhere (outputs formed from the scaled, subnormal lo parts misround from -671.6 down).
TEST(SimdF64, DeepShiftsInLanesNearlyAlwaysCorrectlyRoundedOnEveryTarget) {
  std::mt19937_64 rng(131);
  std::uniform_real_distribution<double> deep(600, 708.2);
  for (Function f : {Function::softmax, Function::log_softmax, Function::logsumexp, Function::cross_entropy,
                     Function::cross_entropy_grad, Function::masked_softmax}) {
    std::vector<Case<double>> cases;
    for (std::size_t k = 0; k < 60; ++k) {
      const std::size_t n = 3 + rng() % 64;
      const double max = k % 3 == 0 ? 0.0 : k % 3 == 1 ? 123.25 : -5e3;
      std::vector<double> z(n);
      for (double& v : z) v = max - deep(rng);
      z[0] = max;
      if (k % 2) z[n / 2] = max - 1.5, z[n - 1] = max - 20;  // ordinary entries beside them
      Case<double> c;
      c.function = f, c.x = z;
      if (f == Function::masked_softmax) c.keep.assign(n, 1);
      fill_exact(c);
      push_variants(cases, c);
    }
    for_each_target([&](const std::string& target) {
      const std::size_t wrong = expect_within_one_ulp(cases, target + " f64 " + std::string(function_name(f)) + " deep shifts");
      EXPECT_LE(wrong, outputs(cases) / 1000) << function_name(f);
    });
  }
}

// ---------------------------------------------------------------------------------------------
// softmax_temperature: softmax((z - max)/t), its shift a double-double quotient.

Case<double> temperature_case(std::vector<double> z, double t) {
  Case<double> c;
  c.function = Function::softmax_temperature;
  c.x = std::move(z);
  c.t = t;
  fill_exact(c);
  return c;
}

// The temperatures the tests below put beside the regimes' own: both sides of 2^-512 (below it
// the lanes divide (z - max) 2^600 by t 2^600) and of 2^512 (the split for Dekker's product), next
// to 1, the extremes (subnormal t, with one bit and with many, DBL_MAX).
const std::vector<double>& extreme_temperatures() {
  static const std::vector<double> t = {
      0x1p-1074, 0x1.8p-1060, 0x0.123456789abcdp-1022, 0x1.23456789abcdep-1022, 0x1.23456789abcdep-1015, 1e-300,
      0x1p-1000, 0x1.5555555555555p-1000, 0x1.8p-990, std::nextafter(0x1p-512, 0.0), 0x1p-512, 1e-3, 1 - 0x1p-53,
      1 + 0x1p-52, 0.37, 1e3, std::nextafter(0x1p512, 0.0), 0x1p512, 1e300, lim};
  return t;
}

TEST(SimdF64, TemperatureWithinOneUlpOfTheOracleInEveryRegimeOnEveryTarget) {
  std::vector<Case<double>> cases;
  for (Regime r : kAllRegimes) {
    if (r == Regime::simd_tails || r == Regime::large_n) continue;  // below
    for (std::size_t i = 0; i < 24; ++i) cases.push_back(make_case<double>(Function::softmax_temperature, r, 0xf6470000u + i));
  }
  for_each_target([&](const std::string& target) {
    const std::size_t wrong = expect_within_one_ulp(cases, target + " f64 softmax_temperature regimes");
    EXPECT_LE(wrong, outputs(cases) / 1000);
  });
}

// Every row length 1..67 with the regime's temperatures: within 1 ULP; a batch of three rows (the
// middle one reversed) gives each row what it gives alone, and nothing is written outside y.
TEST(SimdF64, TemperatureOnEveryTailLengthOnEveryTarget) {
  std::vector<Case<double>> cases;
  for (std::uint64_t seed = 0; seed < 67; ++seed) cases.push_back(make_case<double>(Function::softmax_temperature, Regime::simd_tails, seed));
  for (std::uint64_t seed = 0; seed < 67; ++seed) {
    Case<double> c = cases[seed];  // the same rows at t = 0.37 (regimes draw t = 1 too, softmax's own path)
    cases.push_back(temperature_case(c.x, 0.37));
  }
  for_each_target([&](const std::string& target) {
    const std::size_t wrong = expect_within_one_ulp(cases, target + " f64 softmax_temperature tails");
    EXPECT_LE(wrong, outputs(cases) / 1000);
    for (const Case<double>& c : cases) {
      const std::size_t n = c.x.size();
      std::vector<double> x;
      for (int r = 0; r < 3; ++r) x.insert(x.end(), c.x.begin(), c.x.end());
      std::reverse(x.begin() + n, x.begin() + 2 * n);
      std::vector<double> batch;
      ASSERT_EQ(call_guarded(batch, 3 * n, [&](double* y) { return lib::simd_softmax_temperature_f64(x.data(), y, 3, n, c.t); }),
                SOFTCERT_OK);
      for (std::size_t r = 0; r < 3; ++r) {
        std::vector<double> alone;
        ASSERT_EQ(call_guarded(alone, n, [&](double* y) { return lib::simd_softmax_temperature_f64(x.data() + r * n, y, 1, n, c.t); }),
                  SOFTCERT_OK);
        EXPECT_EQ(bits(alone.data(), n), bits(batch.data() + r * n, n)) << "n=" << n << " t=" << c.t << " row " << r;
      }
    }
  });
}

// Long rows (many blocks of the sum's lanes, -inf entries), and rows past the scratch row (pass 3
// recomputes the terms with the tempered shift): a pattern of P entries repeated K = 2^12 times,
// whose exact softmax is the pattern's divided by K, with and without a -inf entry (masked pass 2
// or not).
TEST(SimdF64, TemperatureOnLongRowsOnEveryTarget) {
  std::mt19937_64 rng(109);
  std::vector<Case<double>> cases;
  for (double t : {0.37, 1e-3, 8.5}) {
    for (std::size_t n : {4096, 20011, 100000}) {
      std::vector<double> z(n);
      for (double& v : z) v = std::normal_distribution<double>(0, n == 20011 ? 30 * t : 2)(rng);
      if (n == 20011) z[n / 3] = -inf;
      cases.push_back(temperature_case(z, t));
    }
  }
  for_each_target([&](const std::string& target) {
    const std::size_t wrong = expect_within_one_ulp(cases, target + " f64 softmax_temperature long rows");
    EXPECT_LE(wrong, outputs(cases) / 1000);
  });
  constexpr std::size_t kPeriod = 521, kCopies = std::size_t(1) << 12, n = kPeriod * kCopies;  // > 2^21
  for (bool with_neg_inf : {false, true}) {
    constexpr double t = 0.37;
    std::vector<double> pattern(kPeriod);
    for (double& v : pattern) v = std::normal_distribution<double>(0, 3)(rng);
    if (with_neg_inf) pattern[7] = -inf;
    std::vector<double> z;
    for (std::size_t k = 0; k < kCopies; ++k) z.insert(z.end(), pattern.begin(), pattern.end());
    std::vector<oracle::Exact<double>> exact = oracle::softmax_temperature<double>(pattern, t);
    for (auto& e : exact) e = {std::ldexp(e.value, -12), std::ldexp(e.hi, -12), std::ldexp(e.lo, -12), e.exact};
    for_each_target([&](const std::string& target) {
      std::vector<double> got(n);
      ASSERT_EQ(lib::simd_softmax_temperature_f64(z.data(), got.data(), 1, n, t), SOFTCERT_OK);
      double worst = 0;
      std::size_t wrong = 0;
      for (std::size_t i = 0; i < n; ++i) {
        worst = std::max(worst, oracle::ulp_error(got[i], exact[i % kPeriod]));
        wrong += got[i] != exact[i % kPeriod].value;
      }
      std::cout << target << " f64 softmax_temperature, n = " << n << " (past the scratch row" << (with_neg_inf ? ", -inf" : "")
                << "): max " << worst << " ULP, " << wrong << " not correctly rounded\n";
      EXPECT_LE(worst, 1.0) << target;
      EXPECT_LE(wrong, n / 1000) << target;
    });
  }
}

// Extreme temperatures (extreme_temperatures()), each on noise rows and on rows whose scaled shifts
// (z_i - max)/t sit around -600 and -745.2 (accurate's rows between; below t = 2^-512 accurate
// divides 2^600 up, as simd does: its quotient's products underflowed there once), with
// and without an offset that makes z - max inexact in a double (its low part dl), -inf entries,
// quotients that overflow, and -DBL_MAX beside ordinary entries: within 1 ULP.
TEST(SimdF64, TemperatureAtExtremeTemperaturesAndThresholdsWithinOneUlpOnEveryTarget) {
  std::mt19937_64 rng(113);
  std::normal_distribution<double> g(0, 3);
  std::vector<Case<double>> cases;
  for (double t : extreme_temperatures()) {
    // Rows built in units of t: z = c + t·s, finite, the scaled shifts about s (z rounded).
    const auto push = [&](std::vector<double> z) {
      for (double v : z) {
        if (!std::isfinite(v) && v != -inf) return;
      }
      cases.push_back(temperature_case(std::move(z), t));
    };
    const double big = std::min(1e4, 0x1p1000 / std::max(t, 1.0));
    for (double c : {0.0, 3.7 * t, -big * t}) {
      for (std::size_t n : {1, 2, 5, 9, 33}) {
        std::vector<double> z(n);
        for (double& v : z) v = c + t * g(rng);
        push(z);
        if (n > 2) z[n / 2] = -inf, push(z);
      }
      for (double depth : {599.9, 600.0, 600.1, 650.0, 708.0, 745.1, 745.13, 745.2, 745.25, 746.0, 800.0}) {
        for (std::size_t n : {2, 3, 9, 33}) {
          std::vector<double> z(n);
          for (double& v : z) v = c + t * g(rng);
          z[0] = c + 4 * t;
          z[1 + rng() % (n - 1)] = z[0] - depth * t;
          if (n > 3) z[1 + rng() % (n - 1)] = z[0] - depth * (1 + 0x1p-40) * t;
          if (n % 3 == 0) for (std::size_t i = 1; i < n; ++i) z[i] = z[0] - (depth + static_cast<double>(i) * 0.01) * t;
          push(z);
        }
      }
    }
    // (z - max)/t overflowing to -inf, or too large for Dekker's split of qh (its remainder NaN),
    // beside kept entries.
    push({t * g(rng), -4e307, t * g(rng), -1e300, t * g(rng), -1e295});
    push({g(rng), -lim, g(rng), lim / 8, 0.5, -3.0});  // hard: max - min near the range
    push({1e307, -1e307, 3e306, 2e307, -4e306});  // moderate shifts at t = DBL_MAX
  }
  for_each_target([&](const std::string& target) {
    const std::size_t wrong = expect_within_one_ulp(cases, target + " f64 softmax_temperature extreme t");
    EXPECT_LE(wrong, outputs(cases) / 1000);
  });
}

using Temperature = int (*)(const double*, double*, std::size_t, std::size_t, double);

// Bits of softmax_temperature's outputs on rows × n of x at t.
Bits run_temperature(Temperature kernel, const std::vector<double>& x, std::size_t rows, std::size_t n, double t) {
  std::vector<double> y(rows * n, -7.0);
  EXPECT_EQ(kernel(x.data(), y.data(), rows, n, t), SOFTCERT_OK);
  return bits(y.data(), y.size());
}

// Rows that go to accurate's row whole, bit for bit accurate's at the same t: special rows (NaN,
// +inf, both, only -inf, only +inf, at the start, middle and end), hard rows (a scaled shift in
// [-745.2, -708.3), an entry of magnitude 2^1022 or more), exact results (a sole finite entry, ties,
// signed zeros); each between two regular rows of a batch, which stay what they are alone. At
// t = 1 softmax_temperature is softmax's, bit for bit.
TEST(SimdF64, TemperatureRowsForAccurateAreAccurateOnesBitForBit) {
  std::mt19937_64 rng(127);
  std::normal_distribution<double> g(0, 4);
  const Temperature simd = builtin("simd").f64.softmax_temperature, accurate = builtin("accurate").f64.softmax_temperature;
  ASSERT_EQ(simd, &lib::simd_softmax_temperature_f64);
  for (double t : {0.37, 1e-3, 1e3, 1e300, 0x1.23456789abcdep-1022, 0x1.8p-1060}) {
    // Exact results too: a sole finite entry, and rows of one value.
    const auto exact = [](std::vector<std::vector<double>>& rows, std::size_t n, std::size_t at) {
      for (double v : {0.0, -0.0, 3.5, -1e300, lim, 0x1p-1074}) {
        std::vector<double> sole(n, -inf);
        sole[n - 1 - at] = v;
        rows.push_back(sole);
        rows.emplace_back(n, v);
      }
    };
    const std::vector<std::vector<double>> rows = rows_for_accurate(rng, t, exact);
    for_each_target([&](const std::string&) {
      for (const std::vector<double>& row : rows) {
        const std::size_t n = row.size();
        std::vector<double> regular(n);
        for (double& v : regular) v = g(rng) * std::min(t, 1e10);
        std::vector<double> x = regular;
        x.insert(x.end(), row.begin(), row.end());
        x.insert(x.end(), regular.begin(), regular.end());
        const Bits got = run_temperature(simd, x, 3, n, t), want = run_temperature(accurate, row, 1, n, t);
        const Bits alone = run_temperature(simd, regular, 1, n, t);
        const std::string what = "t=" + hex_floats<double>(std::vector<double>{t}) + " n=" + std::to_string(n) + " " +
                                 hex_floats<double>(row);
        EXPECT_EQ(Bits(got.begin() + n, got.begin() + 2 * n), want) << what;
        EXPECT_EQ(Bits(got.begin(), got.begin() + n), alone) << what;
        EXPECT_EQ(Bits(got.begin() + 2 * n, got.end()), alone) << what;
      }
    });
  }
  for_each_target([&](const std::string&) {
    for (std::size_t n : {1, 5, 33, 200}) {
      std::vector<double> x(2 * n);
      for (double& v : x) v = g(rng);
      x[n + n / 2] = -inf;
      EXPECT_EQ(run_temperature(simd, x, 2, n, 1.0), run_rows(builtin("simd"), Function::softmax, x, 2, n)) << "t = 1, n=" << n;
    }
  });
}

// In place (y = x): what out of place gives, at tiny, ordinary and huge t, hard rows among them
// (pass 2 finds a scaled shift in [-745.2, -708.3) only after it has computed terms; accurate's row
// must then see z untouched).
TEST(SimdF64, TemperatureInPlaceGivesWhatOutOfPlaceGives) {
  std::mt19937_64 rng(131);
  std::normal_distribution<double> g(0, 3);
  for_each_target([&](const std::string&) {
    for (double t : {0.37, 1e-3, 1e3, 1e-300, 0x1.8p-1060, 1e300}) {
      for (std::size_t n : {1, 3, 4, 9, 33, 200}) {
        for (int hard = 0; hard < 2; ++hard) {
          std::vector<double> z(n);
          for (double& v : z) v = g(rng) * t;
          if (hard && n > 1) z[n - 1] = *std::max_element(z.begin(), z.end()) - 720 * t;  // a scaled shift in [-745.2, -708.3)
          std::vector<double> out(n), in_place = z;
          ASSERT_EQ(lib::simd_softmax_temperature_f64(z.data(), out.data(), 1, n, t), SOFTCERT_OK);
          ASSERT_EQ(lib::simd_softmax_temperature_f64(in_place.data(), in_place.data(), 1, n, t), SOFTCERT_OK);
          EXPECT_EQ(bits(in_place.data(), n), bits(out.data(), n)) << "t=" << t << " n=" << n << " hard=" << hard;
        }
      }
    }
  });
}

// Bad input gets accurate's codes in accurate's order (the rows checked before t), nothing written.
TEST(SimdF64, TemperatureRejectsBadInputAsAccurateRejectsIt) {
  double x[4] = {1, 2, 3, 4}, y[4] = {};
  const auto both = same_code_as(lib::simd_softmax_temperature_f64, builtin("accurate").f64.softmax_temperature);
  constexpr std::size_t huge = std::size_t(1) << 62;
  for (double t : {0.0, -0.0, -1.0, nan, -nan, inf, -inf, -0x1p-1074}) {
    SCOPED_TRACE(t);
    EXPECT_EQ(both(x, y, 1, 4, t), SOFTCERT_ERR_TEMPERATURE);
    EXPECT_EQ(both(x, y, 2, 2, t), SOFTCERT_ERR_TEMPERATURE);
    EXPECT_EQ(both(nullptr, y, 1, 4, t), SOFTCERT_ERR_NULL);
    EXPECT_EQ(both(x, nullptr, 1, 4, t), SOFTCERT_ERR_NULL);
    EXPECT_EQ(both(x, y, 0, 4, t), SOFTCERT_ERR_EMPTY);
    EXPECT_EQ(both(x, y, 1, 0, t), SOFTCERT_ERR_EMPTY);
    EXPECT_EQ(both(x, y, huge, 4, t), SOFTCERT_ERR_SIZE);
  }
  for (double t : {0.5, 1e-300, lim}) {
    EXPECT_EQ(both(nullptr, y, 1, 4, t), SOFTCERT_ERR_NULL);
    EXPECT_EQ(both(x, nullptr, 1, 4, t), SOFTCERT_ERR_NULL);
    EXPECT_EQ(both(x, y, 0, 4, t), SOFTCERT_ERR_EMPTY);
    EXPECT_EQ(both(x, y, 1, 0, t), SOFTCERT_ERR_EMPTY);
    EXPECT_EQ(both(x, y, huge, 4, t), SOFTCERT_ERR_SIZE);
  }
  for (double v : y) EXPECT_EQ(v, 0.0) << "nothing written on error";
}

}  // namespace
}  // namespace softcert::properties

// lib's `simd` algorithm (its vectorised f32 kernels) on EVERY Highway target compiled into it that this CPU can run, not only
// the one dispatch picks: each test forces dispatch to each target in turn
// (hwy::SetSupportedTargetsForTest) and checks
//   - <= 1 ULP against the oracle on every output, subnormal ones included, in every regime of
//     properties/regimes.hpp (every n from 1 to 67 for the SIMD tails, rows of 10^5 and more);
//   - special rows (NaN, +inf, only -inf) bit for bit as `accurate` gives them (special.hpp), and
//     -inf entries of regular rows exactly 0 / -inf;
//   - a batch of rows computes what each row computes alone.
// It links the oracle (through properties), hence its own executable.
#include <gtest/gtest.h>
#include <hwy/targets.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iostream>
#include <map>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "simd.hpp"
#include "simd_test_support.hpp"
#include "softcert/properties/agreement.hpp"

namespace softcert::properties {
namespace {

constexpr float inf = std::numeric_limits<float>::infinity();
constexpr float nan = std::numeric_limits<float>::quiet_NaN();
constexpr Function kVectorised[] = {Function::softmax,       Function::log_softmax,   Function::logsumexp,
                                    Function::cross_entropy, Function::cross_entropy_grad, Function::sigmoid,
                                    Function::masked_softmax, Function::softmax_temperature};
// The functions of a row (not elementwise).
constexpr Function kRowwise[] = {Function::softmax,       Function::log_softmax,        Function::logsumexp,
                                 Function::cross_entropy, Function::cross_entropy_grad, Function::softmax_temperature};

TEST(Simd, CompilesTheX86TargetsAndRunsWhatTheCpuHas) {
  std::string names;
  for (std::int64_t t : lib::simd_targets()) names += std::string(" ") + hwy::TargetName(t);
  std::cout << "simd targets run here:" << names << "\n";
  const auto best = lib::simd_targets().front();
  EXPECT_EQ(lib::simd_dispatched_target(), best) << "dispatch picks the best target";
  EXPECT_GE(lib::simd_targets().size(), 2u) << "at least one vector target and the scalar fallback";
}

// The cases of one function: every regime, every SIMD tail length, a few large rows. Built once
// (the oracle is the slow part) and measured on every target.
std::vector<Case<float>> cases_of(Function f) {
  std::vector<Case<float>> cases;
  for (Regime r : kAllRegimes) {
    if (!applicable(f, r)) continue;
    const std::size_t count = r == Regime::large_n ? 1 : r == Regime::simd_tails ? 67 : 16;
    for (std::size_t i = 0; i < count; ++i) cases.push_back(make_case<float>(f, r, 0x51d0000u + i));
  }
  return cases;
}

TEST(Simd, WithinOneUlpOfTheOracleOnEveryTarget) {
  for (Function f : kVectorised) {
    const std::vector<Case<float>> cases = cases_of(f);
    for_each_target([&](const std::string& target) {
      const Agreement a = measure<float>(builtin("simd"), cases, bound_model_for("simd"));
      std::cout << target << " f32 " << function_name(f) << ": " << a.outputs << " outputs, max " << a.max_ulp
                << " ULP (normal range " << a.max_ulp_normal << ")\n";
      EXPECT_EQ(a.declined, 0u);
      EXPECT_EQ(a.over_bound, 0u) << a.worst;
      // Subnormal outputs too: they are rounded once, not flushed.
      EXPECT_LE(a.max_ulp, 1.0) << function_name(f) << " worst: " << a.worst;
    });
  }
}

// f16/bf16 softmax and log_softmax go through the f32 kernels: within 1 ULP of the format.
TEST(Simd, ReducedFormatsWithinOneUlpOnEveryTarget) {
  for (const FloatFormat* format : kReducedFormats) {
    for (Function f : {Function::softmax, Function::log_softmax}) {
      std::vector<Case<float>> cases;
      for (Regime r : kAllRegimes) {
        const std::size_t count = r == Regime::large_n ? 0 : r == Regime::simd_tails ? 67 : 8;  // large n: the f32 test
        for (std::size_t i = 0; i < count; ++i) cases.push_back(make_reduced_case(f, r, 0x5eed00u + i, *format));
      }
      for_each_target([&](const std::string& target) {
        const Agreement a = measure<float>(builtin("simd"), cases, bound_model_for("simd"));
        std::cout << target << " " << format->name << " " << function_name(f) << ": max " << a.max_ulp << " ULP\n";
        EXPECT_EQ(a.declined, 0u);
        EXPECT_LE(a.max_ulp, 1.0) << a.worst;
      });
    }
  }
}

using Bits = std::vector<std::uint32_t>;
Bits bits(const std::vector<float>& v) {
  Bits b(v.size());
  std::memcpy(b.data(), v.data(), v.size() * sizeof(float));
  return b;
}

// The label of row r in run_rows: any fixed function of the row's index in its batch.
std::int64_t label_of(std::size_t r, std::size_t n) { return static_cast<std::int64_t>((r * 7) % n); }

// Runs f of impl on rows × n with the given labels (cross_entropy and its gradient) or keep mask
// (masked_softmax), returning the outputs (one per row for logsumexp and cross_entropy).
std::vector<float> run_rows(const Implementation& impl, Function f, const std::vector<float>& x,
                            const std::vector<std::int64_t>& labels, std::size_t rows, std::size_t n,
                            const std::vector<std::uint8_t>& keep = {}) {
  const bool per_row = f == Function::logsumexp || f == Function::cross_entropy;
  std::vector<float> y(per_row ? rows : rows * n, -7.0f);
  int status = 0;
  if (f == Function::softmax) status = impl.f32.softmax(x.data(), y.data(), rows, n);
  if (f == Function::log_softmax) status = impl.f32.log_softmax(x.data(), y.data(), rows, n);
  if (f == Function::logsumexp) status = impl.f32.logsumexp(x.data(), y.data(), rows, n);
  if (f == Function::cross_entropy) status = impl.f32.cross_entropy(x.data(), labels.data(), y.data(), rows, n);
  if (f == Function::cross_entropy_grad) {
    status = impl.f32.cross_entropy_grad(x.data(), labels.data(), y.data(), rows, n);
  }
  if (f == Function::masked_softmax) status = impl.f32.masked_softmax(x.data(), keep.data(), y.data(), rows, n);
  EXPECT_EQ(status, SOFTCERT_OK);
  return y;
}

// run_rows for rows first_row... of a batch, labelled by label_of.
std::vector<float> run_rows(const Implementation& impl, Function f, const std::vector<float>& x, std::size_t rows,
                            std::size_t n, std::size_t first_row = 0) {
  std::vector<std::int64_t> labels(rows);
  for (std::size_t r = 0; r < rows; ++r) labels[r] = label_of(first_row + r, n);
  return run_rows(impl, f, x, labels, rows, n);
}

// softmax or log_softmax of impl with y both input and output.
int run_in_place(const Implementation& impl, Function f, std::vector<float>& y, std::size_t rows, std::size_t n) {
  return f == Function::softmax ? impl.f32.softmax(y.data(), y.data(), rows, n)
                                : impl.f32.log_softmax(y.data(), y.data(), rows, n);
}

TEST(Simd, SpecialRowsAreAccurateOnesBitForBit) {
  std::mt19937_64 rng(7);
  std::normal_distribution<float> g(0, 4);
  std::vector<std::vector<float>> rows;
  for (std::size_t n : {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 67, 1000}) {
    // Special values at the start, in the vector body and in the tail.
    for (std::size_t at : {std::size_t(0), n / 2, n - 1}) {
      std::vector<float> row(n);
      for (float& v : row) v = g(rng);
      for (float special : {nan, inf, -inf}) {
        std::vector<float> r = row;
        r[at] = special;
        rows.push_back(r);
      }
      std::vector<float> two_inf = row;  // k = 2 entries +inf (k = 1 when they coincide)
      two_inf[at] = inf, two_inf[n - 1 - at] = inf;
      rows.push_back(two_inf);
      std::vector<float> nan_and_inf = row;
      nan_and_inf[at] = inf, nan_and_inf[n - 1 - at] = nan;
      rows.push_back(nan_and_inf);
    }
    rows.emplace_back(n, -inf);
    rows.emplace_back(n, inf);
    std::vector<float> one_finite(n, -inf);  // regular: one finite entry among -inf
    one_finite[n / 2] = 3.5f;
    rows.push_back(one_finite);
  }
  const Implementation& accurate = *find_builtin("accurate");
  for_each_target([&](const std::string&) {
    for (const std::vector<float>& row : rows) {
      const std::size_t n = row.size();
      const bool regular = std::count(row.begin(), row.end(), -inf) < static_cast<long>(n) &&
                           std::none_of(row.begin(), row.end(), [](float v) { return std::isnan(v) || v == inf; });
      const bool sole = std::count(row.begin(), row.end(), -inf) == static_cast<long>(n - 1);
      for (Function f : kRowwise) {
        for (std::size_t label : {std::size_t(0), n / 2, n - 1}) {  // on and off the special entries
          Case<float> c;
          c.function = f;
          c.x = row;
          c.label = static_cast<std::int64_t>(label);
          c.t = 0.37f;  // softmax_temperature's
          std::vector<float> got, want;
          ASSERT_EQ(run(builtin("simd"), c, got), SOFTCERT_OK);
          ASSERT_EQ(run(accurate, c, want), SOFTCERT_OK);
          const std::string what = std::string(function_name(f)) + " n=" + std::to_string(n) + " label=" +
                                   std::to_string(label) + " " + hex_floats<float>(row);
          if (!regular) {
            EXPECT_EQ(bits(got), bits(want)) << what;
            continue;
          }
          // A regular row with -inf entries: exactly +0 (softmax, gradient off the label) or -inf
          // (log_softmax) there; a sole finite entry gets exactly 1 (softmax, gradient off the
          // label) or +0 (log_softmax), and every output is accurate's.
          if (f != Function::logsumexp && f != Function::cross_entropy) {
            for (std::size_t i = 0; i < n; ++i) {
              if ((row[i] != -inf && !sole) || (f == Function::cross_entropy_grad && i == label)) continue;
              const float expect = row[i] == -inf ? (f == Function::log_softmax ? -inf : 0.0f)
                                                  : (f == Function::log_softmax ? 0.0f : 1.0f);
              EXPECT_EQ(bits({got[i]}), bits({expect})) << what << " i=" << i;
            }
          }
          if (sole) EXPECT_EQ(bits(got), bits(want)) << what;
        }
      }
    }
  });
}

// masked_softmax: masked positions are +0 whatever they hold (NaN, +inf); kept NaN or +inf make
// the row special; nothing kept is all +0. Special rows bit for bit as accurate's, the rest within
// 1 ULP of the oracle.
TEST(Simd, MaskedRowsWithSpecialValues) {
  std::mt19937_64 rng(29);
  std::normal_distribution<float> g(0, 4);
  const float values[] = {nan, inf, -inf};
  std::vector<Case<float>> regular;
  std::vector<Case<float>> special;
  for (std::size_t i = 0; i < 300; ++i) {
    Case<float> c;
    c.function = Function::masked_softmax;
    c.x.resize(1 + rng() % 67);
    c.keep.resize(c.x.size());
    for (float& v : c.x) v = g(rng);
    for (auto& k : c.keep) k = static_cast<std::uint8_t>(rng() % 3 != 0);
    for (std::size_t k = 0; k < 1 + i % 3; ++k) c.x[rng() % c.x.size()] = values[rng() % std::size(values)];
    if (i % 10 == 0) std::fill(c.keep.begin(), c.keep.end(), 0);
    fill_exact(c);
    bool is_special = std::none_of(c.keep.begin(), c.keep.end(), [](std::uint8_t k) { return k != 0; });
    for (std::size_t j = 0; j < c.x.size(); ++j) {
      if (c.keep[j] && (std::isnan(c.x[j]) || c.x[j] == inf)) is_special = true;
    }
    bool all_neg = true;
    for (std::size_t j = 0; j < c.x.size(); ++j) all_neg = all_neg && (!c.keep[j] || c.x[j] == -inf);
    (is_special || all_neg ? special : regular).push_back(c);
  }
  const Implementation& accurate = *find_builtin("accurate");
  for_each_target([&](const std::string&) {
    for (const Case<float>& c : special) {
      std::vector<float> got, want;
      ASSERT_EQ(run(builtin("simd"), c, got), SOFTCERT_OK);
      ASSERT_EQ(run(accurate, c, want), SOFTCERT_OK);
      EXPECT_EQ(bits(got), bits(want)) << describe_inputs(c);
    }
    const Agreement a = measure<float>(builtin("simd"), regular, bound_model_for("simd"));
    EXPECT_LE(a.max_ulp, 1.0) << a.worst;
    for (const Case<float>& c : regular) {  // masked positions exactly +0
      std::vector<float> got;
      ASSERT_EQ(run(builtin("simd"), c, got), SOFTCERT_OK);
      for (std::size_t j = 0; j < got.size(); ++j) {
        if (!c.keep[j]) EXPECT_EQ(bits({got[j]}), bits({0.0f})) << describe_inputs(c) << " j=" << j;
      }
    }
    // In place (y = x, the masked row is built in y): the same bits.
    for (const std::vector<Case<float>>* cases : {&special, &regular}) {
      for (const Case<float>& c : *cases) {
        std::vector<float> got, row = c.x;
        ASSERT_EQ(run(builtin("simd"), c, got), SOFTCERT_OK);
        ASSERT_EQ(builtin("simd").f32.masked_softmax(row.data(), c.keep.data(), row.data(), 1, row.size()), SOFTCERT_OK);
        EXPECT_EQ(bits(row), bits(got)) << "in place " << describe_inputs(c);
      }
    }
  });
}

TEST(Simd, SigmoidSpecialAndThresholdValues) {
  const float lim = std::numeric_limits<float>::max(), tiny = std::numeric_limits<float>::denorm_min(),
              small = std::numeric_limits<float>::min();
  Case<float> c;
  c.function = Function::sigmoid;
  c.x = {nan, inf, -inf, 0.0f, -0.0f, tiny, -tiny, small, -small, lim, -lim, 88.7f, -88.7f, 103.9f, -103.9f,
         104.0f, -104.0f, 17.0f, -17.0f, 1e-8f, -1e-8f, 0.5f, -0.5f, 708.5f, -708.5f, 745.2f, -745.2f};
  fill_exact(c);
  const Implementation& accurate = *find_builtin("accurate");
  for_each_target([&](const std::string&) {
    std::vector<float> got, want;
    ASSERT_EQ(run(builtin("simd"), c, got), SOFTCERT_OK);
    ASSERT_EQ(run(accurate, c, want), SOFTCERT_OK);
    for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(bits({got[i]}), bits({want[i]})) << i;  // NaN, ±inf, ±0
    const Agreement a = measure<float>(builtin("simd"), std::span<const Case<float>>(&c, 1), bound_model_for("simd"));
    EXPECT_LE(a.max_ulp, 1.0) << a.worst;
  });
}

// logsumexp where max + L cancels (max < 0, lse near 0): the rows are shifted so that lse is about
// delta in [2^-19, 2^-6], which sends them to the accurate recomputation.
TEST(Simd, LogsumexpNearZeroWithinOneUlp) {
  std::mt19937_64 rng(19);
  std::normal_distribution<double> g(0, 2);
  std::uniform_real_distribution<double> u(-19, -6);
  std::vector<Case<float>> cases;
  while (cases.size() < 150) {
    const std::size_t n = 2 + rng() % 70;
    std::vector<float> z(n);
    for (float& v : z) v = static_cast<float>(g(rng));
    long double sum = 0;
    for (float v : z) sum += std::exp(static_cast<long double>(v));
    const double delta = (rng() % 2 ? 1.0 : -1.0) * std::exp2(u(rng));
    const double shift = static_cast<double>(std::log(sum)) - delta;
    Case<float> c;
    c.function = Function::logsumexp;
    for (float v : z) c.x.push_back(static_cast<float>(v - shift));
    fill_exact(c);
    if (std::fabs(c.exact[0].hi) < 0x1p-20) continue;  // below every algorithm's reach (see simd.cc)
    cases.push_back(c);
  }
  for_each_target([&](const std::string& target) {
    const Agreement a = measure<float>(builtin("simd"), cases, bound_model_for("simd"));
    std::cout << target << " f32 logsumexp near 0: max " << a.max_ulp << " ULP\n";
    EXPECT_LE(a.max_ulp, 1.0) << a.worst;
  });
}

// Rows with finite entries far below the max (beyond exp's range: pass 2 masks them) and with
// -inf, +-FLT_MAX and subnormal entries, for every row function: <= 1 ULP on every target.
TEST(Simd, DeepRowsWithinOneUlp) {
  const float lim = std::numeric_limits<float>::max(), tiny = std::numeric_limits<float>::denorm_min();
  std::mt19937_64 rng(23);
  std::normal_distribution<float> g(0, 3);
  const float deep[] = {-750.0f, -1e6f, -lim, -inf, tiny, -tiny, 0.0f};
  for (Function f : kRowwise) {
    std::vector<Case<float>> cases;
    for (std::size_t i = 0; i < 40; ++i) {
      Case<float> c;
      c.function = f;
      c.x.resize(1 + rng() % 40);
      for (float& v : c.x) v = g(rng);
      for (std::size_t k = 0; k < 3; ++k) c.x[rng() % c.x.size()] = deep[rng() % std::size(deep)];
      if (i % 4 == 0) c.x[rng() % c.x.size()] = lim;  // the max at the top of the range
      c.label = static_cast<std::int64_t>(rng() % c.x.size());
      c.t = i % 2 ? 1e-3f : 7.0f;  // softmax_temperature's: the shift scaled past and back from the floor
      fill_exact(c);
      cases.push_back(c);
    }
    for_each_target([&](const std::string&) {
      const Agreement a = measure<float>(builtin("simd"), cases, bound_model_for("simd"));
      EXPECT_LE(a.max_ulp, 1.0) << function_name(f) << " worst: " << a.worst;
    });
  }
}

// The gradient's label entry at the max is -(Σ_{j != y} e_j) / S: where every other entry lies
// about 100 below the max it is a subnormal built from terms that softmax drops (below e^-104 each,
// an output of its own rounds to 0), but n of them can add up to ULPs of the sum. Found by the
// certifier's subnormal_spread regime (up to 1.6 ULP); dropping them again gives 2.2 ULP here.
TEST(Simd, GradientAtTheMaxKeepsTermsBelowSoftmaxsFloor) {
  std::mt19937_64 rng(41);
  std::uniform_real_distribution<float> depth(-112.0f, -96.0f);
  std::vector<Case<float>> cases;
  for (std::size_t i = 0; i < 64; ++i) {
    Case<float> c;
    c.function = Function::cross_entropy_grad;
    c.x.resize(2 + i % 40);
    for (float& v : c.x) v = depth(rng);
    c.label = static_cast<std::int64_t>(rng() % c.x.size());
    c.x[static_cast<std::size_t>(c.label)] = 0;
    fill_exact(c);
    cases.push_back(c);
  }
  for_each_target([&](const std::string&) {
    const Agreement a = measure<float>(builtin("simd"), cases, bound_model_for("simd"));
    EXPECT_LE(a.max_ulp, 1.0) << a.worst;
  });
}

// Rows at the edges of pass 2's f32 path (simd.cc): maxima just inside and outside the exact-shift
// bound |max| = 350 (beyond it u_i = z_i - max), spreads just inside and outside the floors (104,
// 150) and the softmax depth 69.3 - ln n where pass 3 switches to f64 rounding, and ties with the
// max: <= 1 ULP on every target, for every row function.
TEST(Simd, RowsAtThePassTwoThresholdsWithinOneUlp) {
  std::mt19937_64 rng(29);
  std::uniform_real_distribution<float> unit(0, 1);
  for (Function f : kRowwise) {
    std::vector<Case<float>> cases;
    for (float max : {0.0f, 349.9f, 350.0f, 350.1f, -349.9f, -350.1f, 1e4f, -1e4f, 3e7f}) {
      for (float depth : {60.0f, 66.0f, 69.3f, 103.9f, 104.1f, 149.9f, 150.1f, 200.0f}) {
        for (std::size_t n : {2, 9, 33, 300}) {
          Case<float> c;
          c.function = f;
          c.x.resize(n);
          for (float& v : c.x) v = max - depth * unit(rng);
          c.x[rng() % n] = max;
          c.x[rng() % n] = max - depth;
          if (n > 2) c.x[rng() % n] = max;  // a tie, now and then
          c.label = static_cast<std::int64_t>(rng() % n);
          c.t = 0.8f;
          fill_exact(c);
          cases.push_back(c);
        }
      }
    }
    for_each_target([&](const std::string&) {
      const Agreement a = measure<float>(builtin("simd"), cases, bound_model_for("simd"));
      EXPECT_EQ(a.declined, 0u);
      EXPECT_LE(a.max_ulp, 1.0) << function_name(f) << " worst: " << a.worst;
    });
  }
}

// The oracle's cases (one row each) of n <= 256 (groups take n <= 64, log_softmax and log-sums
// n <= 128), stacked by n into batches of 19 rows or more, so that the rows go through groups
// (transposed, a vector's lanes at a time) as well as alone: every output within its bound and
// 1 ULP. Rows with -inf entries (and masked_softmax's masked ones) take groups too.
TEST(Simd, ShortRowsInGroupsWithinOneUlpOfTheOracle) {
  for (Function f : {Function::softmax, Function::log_softmax, Function::logsumexp, Function::cross_entropy,
                     Function::cross_entropy_grad, Function::masked_softmax}) {
    const std::vector<Case<float>> cases = cases_of(f);
    std::map<std::size_t, std::vector<const Case<float>*>> by_n;
    for (const Case<float>& c : cases) {
      if (c.x.size() <= 256 && !nothing_attended(c)) by_n[c.x.size()].push_back(&c);
    }
    for_each_target([&](const std::string& target) {
      std::size_t outputs = 0;
      double worst = 0;
      for (const auto& [n, of_n] : by_n) {
        std::vector<const Case<float>*> batch;
        while (batch.size() < 19) batch.insert(batch.end(), of_n.begin(), of_n.end());
        const std::size_t rows = batch.size();
        std::vector<float> x;
        std::vector<std::int64_t> labels;
        std::vector<std::uint8_t> keep;
        for (const Case<float>* c : batch) {
          x.insert(x.end(), c->x.begin(), c->x.end()), labels.push_back(c->label);
          keep.insert(keep.end(), c->keep.begin(), c->keep.end());
        }
        const std::vector<float> y = run_rows(builtin("simd"), f, x, labels, rows, n, keep);
        for (std::size_t r = 0; r < rows; ++r) {
          const Case<float>& c = *batch[r];
          const std::vector<double> bound = bounds(c, bound_model_for("simd"));
          for (std::size_t i = 0; i < c.exact.size(); ++i) {
            const float got = y[r * c.exact.size() + i];
            const double ulps = ulp_error(c, i, got);
            worst = std::max(worst, ulps);
            ++outputs;
            EXPECT_TRUE(within_bound(c, i, got, bound[i])) << function_name(f) << " n=" << n << " row " << r << " output " << i;
            EXPECT_LE(ulps, 1.0) << function_name(f) << " n=" << n << " row " << r << " output " << i;
          }
        }
      }
      std::cout << target << " f32 " << function_name(f) << " in batches: " << outputs << " outputs, max " << worst
                << " ULP\n";
    });
  }
}

// Short rows (n <= 64, log_softmax and log-sums n <= 128) go in groups of a vector's lanes where
// they can (transposed) and alone in their own layout where they cannot: the two must give the
// same bits, whatever rows surround a row.
// 19 rows: two whole groups of 8 (4 on SSE4: four) and a rest; special and deep rows, and rows with
// -inf entries, inside groups. masked_softmax the same, with masked entries in most rows.
// (What this can see is the rows' layout and routing: a different order of the f64 sum moves S by
// about 2^-53, which flips an f32 output's rounding about once in 2^29.)
TEST(Simd, ABatchComputesWhatEachRowComputesAlone) {
  std::mt19937_64 rng(3);
  std::normal_distribution<float> g(0, 10);
  for_each_target([&](const std::string&) {
    for (std::size_t n : {1, 3, 8, 13, 16, 63, 64, 65, 127, 128, 129, 4099}) {
      const std::size_t rows = 19;
      std::vector<float> x(rows * n);
      for (float& v : x) v = g(rng);
      x[1 * n] = inf;                                            // a special row between regular ones
      for (std::size_t i = 0; i < n; ++i) x[3 * n + i] = -inf;  // a fully masked row
      x[10 * n + n / 2] = -400;                                  // a deep row (with n > 1)
      x[12 * n] = nan;
      x[5 * n + n - 1] = -inf, x[6 * n] = -inf, x[6 * n + n / 2] = -inf;  // -inf entries (a masked logit)
      x[17 * n + n / 3] = -inf;
      for (std::size_t i = n - n / 3; i < n; ++i) x[13 * n + i] = -inf;  // a causal mask's -inf tail
      for (std::size_t i = 0; i < n / 4; ++i) x[14 * n + i] = -inf;       // and a leading run
      for (Function f : {Function::softmax, Function::log_softmax, Function::logsumexp, Function::cross_entropy,
                         Function::cross_entropy_grad}) {
        const std::vector<float> batch = run_rows(builtin("simd"), f, x, rows, n);
        const std::size_t per_row = f == Function::logsumexp || f == Function::cross_entropy ? 1 : n;
        for (std::size_t r = 0; r < rows; ++r) {
          const std::vector<float> row(x.begin() + r * n, x.begin() + (r + 1) * n);
          const std::vector<float> alone = run_rows(builtin("simd"), f, row, 1, n, r);
          const std::vector<float> part(batch.begin() + r * per_row, batch.begin() + (r + 1) * per_row);
          EXPECT_EQ(bits(part), bits(alone)) << function_name(f) << " n=" << n << " row " << r;
        }
        if (f == Function::softmax || f == Function::log_softmax) {  // and in place
          std::vector<float> y = x;
          ASSERT_EQ(run_in_place(builtin("simd"), f, y, rows, n), SOFTCERT_OK);
          EXPECT_EQ(bits(y), bits(batch)) << function_name(f) << " in place, n=" << n;
        }
      }
      // Masked: a pattern that leaves rows 0 and 2 whole, masks all of row 4, keeps a prefix of rows
      // 7 and 8 (causal and padding masks), a span inside row 9, only the last entry of row 11, and
      // four fifths of the rest.
      std::vector<std::uint8_t> keep(rows * n);
      for (std::size_t i = 0; i < keep.size(); ++i) {
        const std::size_t r = i / n, j = i % n;
        keep[i] = r == 0 || r == 2 || (r != 4 && (i * 7 + r) % 5 != 0);
        if (r == 7 || r == 8) keep[i] = j <= (r * 5) % n;
        if (r == 9) keep[i] = j >= n / 3 && j < n - n / 4;
        if (r == 11) keep[i] = j == n - 1;
      }
      const std::vector<float> batch = run_rows(builtin("simd"), Function::masked_softmax, x, {}, rows, n, keep);
      for (std::size_t r = 0; r < rows; ++r) {
        const std::vector<float> row(x.begin() + r * n, x.begin() + (r + 1) * n);
        const std::vector<std::uint8_t> row_keep(keep.begin() + r * n, keep.begin() + (r + 1) * n);
        const std::vector<float> alone = run_rows(builtin("simd"), Function::masked_softmax, row, {}, 1, n, row_keep);
        const std::vector<float> part(batch.begin() + r * n, batch.begin() + (r + 1) * n);
        EXPECT_EQ(bits(part), bits(alone)) << "masked_softmax n=" << n << " row " << r;
        if (r == 0 || r == 2) {  // all kept: softmax's bits
          const std::vector<float> softmax = run_rows(builtin("simd"), Function::softmax, row, 1, n);
          EXPECT_EQ(bits(part), bits(softmax)) << "n=" << n << " row " << r;
        }
      }
      std::vector<float> y = x;
      ASSERT_EQ(builtin("simd").f32.masked_softmax(y.data(), keep.data(), y.data(), rows, n), SOFTCERT_OK);
      EXPECT_EQ(bits(y), bits(batch)) << "masked_softmax in place, n=" << n;
    }
  });
}

// A masked row of n > 64 is computed over its span from the first kept entry to the last (the
// rest is +0 without its terms): with every entry of the span kept, the span's softmax bit for
// bit; with masked entries inside it too, within 1 ULP of the oracle.
TEST(Simd, MaskedRowsAreTheirKeptSpans) {
  std::mt19937_64 rng(31);
  std::normal_distribution<float> g(0, 5);
  std::vector<Case<float>> cases;
  for (std::size_t n : {65, 100, 129, 1000, 4099}) {
    for (std::size_t i = 0; i < 12; ++i) {
      Case<float> c;
      c.function = Function::masked_softmax;
      c.x.resize(n);
      for (float& v : c.x) v = g(rng);
      const std::size_t begin = i % 3 == 0 ? 0 : rng() % n, end = begin + 1 + rng() % (n - begin);
      c.keep.assign(n, 0);
      std::fill(c.keep.begin() + begin, c.keep.begin() + end, 1);
      if (i % 2 && begin > 0) c.x[0] = nan;  // masked: no effect
      if (i % 2 && end < n) c.x[n - 1] = inf;
      if (i % 4 == 1) c.keep[begin + (end - begin) / 2] = 0;   // a masked entry inside the span
      fill_exact(c);
      cases.push_back(c);
    }
  }
  for_each_target([&](const std::string&) {
    for (const Case<float>& c : cases) {
      const std::size_t n = c.x.size();
      const std::size_t begin = std::find(c.keep.begin(), c.keep.end(), 1) - c.keep.begin();
      const std::size_t end = n - (std::find(c.keep.rbegin(), c.keep.rend(), 1) - c.keep.rbegin());
      if (std::count(c.keep.begin() + begin, c.keep.begin() + end, 0) > 0) continue;
      const std::vector<float> span(c.x.begin() + begin, c.x.begin() + end);
      std::vector<float> want(n, 0.0f);
      const std::vector<float> soft = run_rows(builtin("simd"), Function::softmax, span, 1, span.size());
      std::copy(soft.begin(), soft.end(), want.begin() + begin);
      std::vector<float> got;
      ASSERT_EQ(run(builtin("simd"), c, got), SOFTCERT_OK);
      EXPECT_EQ(bits(got), bits(want)) << "n=" << n << " span " << begin << ".." << end;
    }
    const Agreement a = measure<float>(builtin("simd"), cases, bound_model_for("simd"));
    EXPECT_EQ(a.declined, 0u);
    EXPECT_EQ(a.over_bound, 0u) << a.worst;
    EXPECT_LE(a.max_ulp, 1.0) << a.worst;
  });
}

TEST(Simd, BadInputIsRejectedBeforeDispatch) {
  float x[4] = {1, 2, 3, 4}, y[4] = {};
  EXPECT_EQ(builtin("simd").f32.softmax(nullptr, y, 1, 4), SOFTCERT_ERR_NULL);
  EXPECT_EQ(builtin("simd").f32.log_softmax(x, y, 0, 4), SOFTCERT_ERR_EMPTY);
  EXPECT_EQ(builtin("simd").f32.logsumexp(x, y, 1, 0), SOFTCERT_ERR_EMPTY);
  EXPECT_EQ(builtin("simd").f32.softmax(x, y, std::size_t(1) << 62, 4), SOFTCERT_ERR_SIZE);
}

}  // namespace
}  // namespace softcert::properties

#include "battery.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>
#include <thread>

#include "softcert/oracle.hpp"
#include "softcert/properties/agreement.hpp"
#include "softcert/properties/catalogue.hpp"
#include "softcert/properties/golden.hpp"
#include "softcert/properties/search.hpp"

namespace softcert::certify {

std::string Report::verdict() const {
  bool passed = false;
  for (const Check& c : checks) {
    if (c.status == "fail") return "fail";
    passed |= c.status == "pass";
  }
  return passed ? "pass" : "fail";
}

bool Report::nothing_certified() const {
  return std::none_of(checks.begin(), checks.end(), [](const Check& c) { return c.status == "pass"; });
}

std::size_t battery_cases(const std::string& battery) {
  if (battery == "smoke") return 4;
  if (battery == "standard" || battery == "deep") return 40;
  return 0;
}

namespace {

bool wanted(const std::vector<std::string>& filter, std::string_view name) {
  return filter.empty() || std::find(filter.begin(), filter.end(), name) != filter.end();
}

// large_n rows hold ~10^5 logits each (about a second of oracle time): one per 1,000 cases of
// the other regimes, at least one from the standard battery's 40 up, none in a smoke run.
std::size_t cases_in(properties::Regime r, std::size_t cases) {
  if (r == properties::Regime::simd_tails) return std::max<std::size_t>(cases, 67);  // every n in 1..67
  if (r != properties::Regime::large_n) return cases;
  return cases < 40 ? 0 : std::max<std::size_t>(1, cases / 1000);
}

template <typename T>
void tutorial_checks(const Implementation& impl, std::vector<Check>& out) {
  for (const properties::GoldenExample& e : properties::tutorial_examples()) {
    Check c{std::string(function_name(e.function)), std::string(dtype_name<T>()), "tutorial_example"};
    c.cases = 1;
    properties::GoldenResult r{properties::GoldenResult::Status::declined, {}};
    try {
      r = properties::check_golden<T>(impl, e);
    } catch (const properties::KernelMisbehaved& k) {
      c.status = "fail", c.reason = std::string("the kernel ") + k.what(), c.counterexample = e.name;
      out.push_back(std::move(c));
      continue;
    }
    c.status = r.status == properties::GoldenResult::Status::pass ? "pass"
               : r.status == properties::GoldenResult::Status::fail ? "fail" : "declined";
    if (r.status == properties::GoldenResult::Status::fail) {
      c.reason = "differs from the tutorial's printed digits (" + e.name + ")";
      c.counterexample = r.detail;
    } else if (r.status == properties::GoldenResult::Status::declined) {
      c.reason = r.detail;
    }
    out.push_back(std::move(c));
  }
}

// `reduced`: the f16/bf16 kernels of that format instead of T's (T = float carries the values).
template <typename T>
Check agreement_check(const Implementation& impl, Function f, properties::Regime regime,
                      const BatteryOptions& options, const FloatFormat* reduced = nullptr) {
  Check c{std::string(function_name(f)), std::string(reduced ? reduced->name : dtype_name<T>()),
          "oracle_agreement/" + std::string(properties::regime_name(regime))};
  std::vector<properties::Case<T>> cases;
  const std::size_t count = cases_in(regime, options.cases);
  // Disjoint, deterministic seeds per (function, regime, case).
  const std::uint64_t base = options.seed * 0x9E3779B97F4A7C15ull + static_cast<std::uint64_t>(f) * 1000003u +
                             static_cast<std::uint64_t>(regime) * 7919u;
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint64_t seed = base + i * 0x100000001b3ull;
    if constexpr (sizeof(T) == sizeof(float)) {
      if (reduced) {
        cases.push_back(properties::make_reduced_case(f, regime, seed, *reduced));
        continue;
      }
    }
    cases.push_back(properties::make_case<T>(f, regime, seed));
  }
  properties::Agreement a;
  try {
    a = properties::measure<T>(impl, cases, properties::bound_model_for(impl.name));
  } catch (const properties::KernelMisbehaved& e) {  // crashed, hung, scribbled (remote.hpp)
    c.status = "fail", c.cases = count, c.reason = std::string("the kernel ") + e.what();
    return c;
  }
  c.cases = a.cases;
  c.samples = std::move(a.samples);
  c.max_ulp = a.max_ulp;
  c.max_ulp_normal = a.max_ulp_normal;
  if (a.declined == a.cases) {
    c.status = "declined";
    c.reason = "every call declined";
  } else if (a.over_bound > 0) {
    c.status = "fail";
    c.reason = fmt::format("{} of {} outputs beyond the a-priori error bound", a.over_bound, a.outputs);
    c.counterexample = a.worst;
  } else {
    c.status = "pass";
  }
  return c;
}

// Every property of the catalogue, on generated inputs: a property whose functions are all
// missing or declined is "declined"; one that fails carries its counterexample.
template <typename T>
Check property_check(const Implementation& impl, const properties::Property<T>& p, const BatteryOptions& options) {
  const std::string& name = p.info.name;
  Check c{name.substr(0, name.find('.')), std::string(dtype_name<T>()), "property/" + name};
  const auto profile = options.profile == "strict" ? properties::Profile::strict : properties::Profile::compatible;
  const std::size_t tries = std::max<std::size_t>(10, options.cases * 5 / 2);
  const properties::SearchResult r = properties::search(p, impl, profile, tries, options.seed);
  c.cases = r.passed + r.skipped + (r.failure ? 1 : 0);
  if (r.failure) {
    c.status = "fail";
    c.reason = "violates '" + p.info.claim + "'";
    c.counterexample = fmt::format("{} (replay: seed {}, draw {})", r.failure->detail, r.failure->seed, r.failure->attempt);
  } else if (r.passed == 0) {
    c.status = "declined";
    c.reason = "every input skipped (function not provided, declined, or outside the property's domain)";
  } else {
    c.status = "pass";
  }
  return c;
}

// A `*.special_values` property on every fixed special row (properties::special_inputs) as well:
// random draws alone meet a NaN or an infinity too rarely for a smoke run.
// `reduced`: the f16/bf16 kernels, on the special rows brought into that format (finite values
// clamped to its largest magnitude, then rounded).
template <typename T>
Check special_value_check(const Implementation& impl, const properties::Property<T>& p, const BatteryOptions& options,
                          const FloatFormat* reduced = nullptr) {
  const std::string& name = p.info.name;
  Check c{name.substr(0, name.find('.')), std::string(reduced ? reduced->name : dtype_name<T>()), "special_values/fixed_rows"};
  const auto profile = options.profile == "strict" ? properties::Profile::strict : properties::Profile::compatible;
  // Every row runs; the reason names each kind of row that failed (the certificate's flags
  // NaN-propagating and +inf limit read it).
  auto kind_of = [](const std::vector<T>& z) {
    if (std::any_of(z.begin(), z.end(), [](T x) { return std::isnan(x); })) return "NaN rows";
    if (std::any_of(z.begin(), z.end(), [](T x) { return x == std::numeric_limits<T>::infinity(); })) return "+inf rows";
    if (std::all_of(z.begin(), z.end(), [](T x) { return x == -std::numeric_limits<T>::infinity(); })) return "rows of only -inf";
    return "extreme finite rows";
  };
  std::size_t passed = 0;
  std::vector<std::string> failing;
  for (properties::Input<T> in : properties::special_inputs<T>()) {
    if (reduced) {
      in.reduced = reduced;
      for (T& v : in.z) {
        if (std::isfinite(v)) v = std::copysign(std::min<T>(std::fabs(v), static_cast<T>(reduced->max())), v);
        v = round_to(v, *reduced);
      }
    }
    ++c.cases;
    const properties::Verdict v = p.check(impl, in, profile);
    if (v.failed()) {
      const std::string kind = kind_of(in.z);
      if (c.counterexample.empty()) c.counterexample = v.detail + "; input " + properties::describe(in);
      if (std::find(failing.begin(), failing.end(), kind) == failing.end()) failing.push_back(kind);
    }
    passed += v.status == properties::Verdict::Status::pass;
  }
  if (!failing.empty()) {
    c.status = "fail";
    c.reason = "violates '" + p.info.claim + "' on " + fmt::format("{}", fmt::join(failing, ", "));
  } else {
    c.status = passed > 0 ? "pass" : "declined";
    if (passed == 0) c.reason = "every call declined or not provided";
  }
  return c;
}

// What softmax does at the two places DESIGN.md §2 lets an implementation choose or where
// libraries differ: a row of only -inf (all NaN, all zero or uniform, named in the report) and a
// probability in the subnormal range (kept, or flushed to zero: reported, DESIGN.md §2).
// `reduced`: the f16/bf16 kernel of that format (T = float carries its values).
template <typename T>
void behaviour_checks(const Implementation& impl, std::vector<Check>& out, const FloatFormat* reduced = nullptr) {
  properties::Case<T> probe;
  probe.function = Function::softmax;
  probe.reduced = reduced;
  if (!properties::provides(impl, probe)) return;
  const FloatFormat& format = probe.format();
  const std::string dtype(format.name);
  constexpr T inf = std::numeric_limits<T>::infinity();
  auto call = [&](const std::vector<T>& x, std::vector<T>& y, Check& c) {
    probe.x = x;
    try {
      if (properties::run(impl, probe, y) == SOFTCERT_OK) return true;
      c.status = "declined", c.reason = "the call declined";
    } catch (const properties::KernelMisbehaved& e) {
      c.status = "fail", c.reason = std::string("the kernel ") + e.what();
    }
    return false;
  };
  std::vector<T> y;
  {
    Check c{"softmax", dtype, "behaviour/fully_masked_row"};
    c.cases = 1;
    if (call({-inf, -inf, -inf}, y, c)) {
      const bool nan = std::all_of(y.begin(), y.end(), [](T v) { return std::isnan(v); });
      const bool zero = std::all_of(y.begin(), y.end(), [](T v) { return v == 0; });
      const bool uniform = properties::uniform(y, format);
      c.status = nan || zero || uniform ? "pass" : "fail";
      c.reason = nan ? "all NaN" : zero ? "all zero" : uniform ? "uniform 1/n" : "neither all NaN, all zero nor uniform (DESIGN.md §2)";
      if (c.status == "fail") c.counterexample = "softmax of [-inf, -inf, -inf] = " + properties::hex_floats<T>(y);
    }
    out.push_back(std::move(c));
  }
  {
    Check c{"softmax", dtype, "behaviour/subnormal_results"};
    c.cases = 1;
    // exp(low)/(1 + exp(low)) is subnormal in the format (and not below half its smallest one).
    const T low = format.digits == 53 ? T(-740) : format.digits == 24 ? T(-100) : format.digits == 11 ? T(-12) : T(-90);
    if (call({0, low}, y, c)) {
      // DESIGN.md §2: flushing is reported (the certificate's flag), not failed; anything but
      // the subnormal or zero is an error.
      const bool kept = y[1] > 0 && y[1] < format.min_normal();
      c.status = kept || y[1] == 0 ? "pass" : "fail";
      c.reason = kept ? "keeps subnormal results" : y[1] == 0 ? "flushes subnormal results to zero"
                                                              : "neither the subnormal result nor zero";
      if (!kept) c.counterexample = fmt::format("softmax of [0, {:a}] = {}", low, properties::hex_floats<T>(y));
    }
    out.push_back(std::move(c));
  }
}

struct Task {
  bool f64;
  Function function;
  properties::Regime regime;
  std::size_t property = kNoProperty;  // an index into catalogue<T>() instead of a regime check
  bool fixed_rows = false;             // the property on special_inputs() instead of a search
  const FloatFormat* reduced = nullptr;  // the f16/bf16 kernels of this format (f64 false)
  static constexpr std::size_t kNoProperty = ~std::size_t(0);
};

// The functions the ABI has in reduced precision.
constexpr Function kReducedFunctions[] = {Function::softmax, Function::log_softmax};

}  // namespace

Report run_battery(const Implementation& impl, const BatteryOptions& options,
                   const std::function<void(std::size_t, std::size_t)>& progress) {
  Report report{impl.name, options.battery, options.seed, options.profile,
                fmt::format("{}/{}", options.shard, options.shards), {}};
  std::vector<Task> tasks;
  for (bool f64 : {false, true}) {
    if (!wanted(options.dtypes, f64 ? "f64" : "f32")) continue;
    for (Function f : kAllFunctions) {
      if (!wanted(options.functions, function_name(f))) continue;
      const bool provided = f64 ? provides<double>(impl, f) : provides<float>(impl, f);
      if (!provided) {
        report.checks.push_back({std::string(function_name(f)), f64 ? "f64" : "f32", "exported",
                                 "skipped", "not provided by this implementation"});
        continue;
      }
      for (properties::Regime r : properties::kAllRegimes) {
        if (properties::applicable(f, r) && cases_in(r, options.cases) > 0) tasks.push_back({f64, f, r});
      }
    }
  }
  // f16/bf16: oracle agreement in every regime and the special-value rows of softmax and
  // log_softmax (the catalogue's other properties are about functions the ABI has only in
  // f32/f64).
  for (const FloatFormat* format : kReducedFormats) {
    if (!wanted(options.dtypes, format->name)) continue;
    for (Function f : kReducedFunctions) {
      if (!wanted(options.functions, function_name(f))) continue;
      properties::Case<float> probe;
      probe.function = f;
      probe.reduced = format;
      if (!properties::provides(impl, probe)) {
        report.checks.push_back({std::string(function_name(f)), std::string(format->name), "exported", "skipped",
                                 "not provided by this implementation"});
        continue;
      }
      for (properties::Regime r : properties::kAllRegimes) {
        if (cases_in(r, options.cases) > 0) tasks.push_back({false, f, r, Task::kNoProperty, false, format});
      }
      const auto& catalogue = properties::catalogue<float>();
      for (std::size_t i = 0; i < catalogue.size(); ++i) {
        if (catalogue[i].info.name == std::string(function_name(f)) + ".special_values") {
          tasks.push_back({false, f, properties::Regime::small, i, true, format});
        }
      }
    }
  }
  for (bool f64 : {false, true}) {
    if (!wanted(options.dtypes, f64 ? "f64" : "f32")) continue;
    const std::size_t count = f64 ? properties::catalogue<double>().size() : properties::catalogue<float>().size();
    for (std::size_t i = 0; i < count; ++i) {
      const std::string& name = f64 ? properties::catalogue<double>()[i].info.name : properties::catalogue<float>()[i].info.name;
      const std::string family = name.substr(0, name.find('.'));
      // kernel.* properties call every row kernel: they belong to a run of all functions.
      if (!options.functions.empty() && !wanted(options.functions, family)) continue;
      // A family whose own function the implementation does not export: skipped, not declined.
      const auto own = std::find_if(std::begin(kAllFunctions), std::end(kAllFunctions),
                                    [&](Function f) { return function_name(f) == family; });
      if (own != std::end(kAllFunctions) && !(f64 ? provides<double>(impl, *own) : provides<float>(impl, *own))) {
        report.checks.push_back({family, f64 ? "f64" : "f32", "property/" + name, "skipped",
                                 "not provided by this implementation"});
        if (name.ends_with(".special_values")) {
          report.checks.push_back({family, f64 ? "f64" : "f32", "special_values/fixed_rows", "skipped",
                                   "not provided by this implementation"});
        }
        continue;
      }
      tasks.push_back({f64, Function::softmax, properties::Regime::small, i});
      if (name.ends_with(".special_values")) tasks.push_back({f64, Function::softmax, properties::Regime::small, i, true});
    }
  }
  // --checks: only the named checks (softcert repro reruns one this way).
  if (!options.checks.empty()) {
    auto name_of = [](const Task& t) -> std::string {
      if (t.property == Task::kNoProperty) return "oracle_agreement/" + std::string(properties::regime_name(t.regime));
      const std::string& p = t.f64 ? properties::catalogue<double>()[t.property].info.name
                                   : properties::catalogue<float>()[t.property].info.name;
      return t.fixed_rows ? "special_values/fixed_rows" : "property/" + p;
    };
    std::erase_if(tasks, [&](const Task& t) { return !wanted(options.checks, name_of(t)); });
    std::erase_if(report.checks, [&](const Check& c) { return !wanted(options.checks, c.check); });
  }
  // --shard K/N: every N-th task from the K-th, and the tutorial and export checks in shard 1
  // only, so the shards are disjoint and together are the whole run.
  if (options.shards > 1) {
    std::vector<Task> mine;
    for (std::size_t i = options.shard - 1; i < tasks.size(); i += options.shards) mine.push_back(tasks[i]);
    tasks = std::move(mine);
    if (options.shard != 1) report.checks.clear();
  }
  for (const FloatFormat* format : kReducedFormats) {
    if (!wanted(options.dtypes, format->name) || options.shard != 1) continue;
    std::vector<Check> behaviour;
    behaviour_checks<float>(impl, behaviour, format);
    for (Check& c : behaviour) {
      if (wanted(options.functions, c.function) && wanted(options.checks, c.check)) report.checks.push_back(std::move(c));
    }
  }
  for (bool f64 : {false, true}) {
    if (!wanted(options.dtypes, f64 ? "f64" : "f32") || options.shard != 1) continue;
    std::vector<Check> golden;
    if (wanted(options.checks, "tutorial_example")) {
      f64 ? tutorial_checks<double>(impl, golden) : tutorial_checks<float>(impl, golden);
    }
    for (Check& c : golden) {
      if (wanted(options.functions, c.function) && c.status != "declined") report.checks.push_back(std::move(c));
    }
    std::vector<Check> behaviour;
    f64 ? behaviour_checks<double>(impl, behaviour) : behaviour_checks<float>(impl, behaviour);
    for (Check& c : behaviour) {
      if (wanted(options.functions, c.function) && wanted(options.checks, c.check)) report.checks.push_back(std::move(c));
    }
  }

  // Oracle work dominates: spread the tasks over `jobs` threads (the oracle and lib's kernels
  // keep no shared mutable state), then keep the report in task order.
  std::vector<Check> results(tasks.size());
  std::atomic<std::size_t> next{0}, done{0};
  std::mutex progress_mutex;
  auto worker = [&] {
    for (std::size_t i; (i = next++) < tasks.size();) {
      const Task& t = tasks[i];
      if (t.fixed_rows) {
        results[i] = t.f64 ? special_value_check<double>(impl, properties::catalogue<double>()[t.property], options)
                           : special_value_check<float>(impl, properties::catalogue<float>()[t.property], options, t.reduced);
      } else if (t.property != Task::kNoProperty) {
        results[i] = t.f64 ? property_check<double>(impl, properties::catalogue<double>()[t.property], options)
                           : property_check<float>(impl, properties::catalogue<float>()[t.property], options);
      } else {
        results[i] = t.f64 ? agreement_check<double>(impl, t.function, t.regime, options)
                           : agreement_check<float>(impl, t.function, t.regime, options, t.reduced);
      }
      const std::size_t finished = ++done;
      if (progress) {
        std::lock_guard lock(progress_mutex);
        progress(finished, tasks.size());
      }
    }
    oracle::release_thread_caches();
  };
  std::vector<std::thread> threads;
  for (unsigned j = 1; j < std::max(1u, options.jobs); ++j) threads.emplace_back(worker);
  worker();
  for (auto& th : threads) th.join();
  for (Check& c : results) report.checks.push_back(std::move(c));
  return report;
}

}  // namespace softcert::certify

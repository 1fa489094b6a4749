// softcert: certify a softmax implementation against the oracle and print its certificate.
//
// Exit status (DESIGN.md §6): 0 every check passed; 1 at least one check failed, or nothing was
// certified; 2 the run itself could not be done (bad arguments, unknown implementation, a plugin
// or command that cannot be loaded or started).
//
// --plugin and --exec targets run in child processes (remote.hpp): a kernel that crashes, hangs
// or misbehaves fails the check it was called for, and the run goes on.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "battery.hpp"
#include "exhaustive.hpp"
#include "fuzz_campaign.hpp"
#include "remote.hpp"
#include "report.hpp"
#include "softcert/implementation.hpp"

namespace {

constexpr int kExitPass = 0;
constexpr int kExitFail = 1;
constexpr int kExitUsage = 2;

std::vector<std::string> known_functions() {
  std::vector<std::string> names;
  for (softcert::Function f : softcert::kAllFunctions) names.emplace_back(softcert::function_name(f));
  return names;
}

// "softmax, log_softmax, ..." for what impl provides in any type.
std::string provided_functions(const softcert::Implementation& impl) {
  std::string provided;
  for (softcert::Function f : softcert::kAllFunctions) {
    const bool reduced = (f == softcert::Function::softmax && (impl.f16.softmax || impl.bf16.softmax)) ||
                         (f == softcert::Function::log_softmax && (impl.f16.log_softmax || impl.bf16.log_softmax));
    if (softcert::provides<float>(impl, f) || softcert::provides<double>(impl, f) || reduced) {
      provided += (provided.empty() ? "" : ", ") + std::string(softcert::function_name(f));
    }
  }
  return provided.empty() ? "(no kernels)" : provided;
}

// The adapters (adapters/): C++ plugins built next to this binary (<build>/adapters/*.so), each
// asked for its name and kernels through the isolated plugin host, and the Python adapters of
// the source tree (not started: their frameworks may be missing or slow to import).
void list_adapters() {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  std::vector<fs::path> plugins;
  if (!ec) {
    for (const auto& entry : fs::directory_iterator(self.parent_path().parent_path() / "adapters", ec)) {
      if (entry.path().extension() == ".so") plugins.push_back(entry.path());
    }
  }
  std::sort(plugins.begin(), plugins.end());
  fmt::print("\nadapter plugins (softcert certify --plugin PATH):\n");
  if (plugins.empty()) fmt::print("  none built (adapters/README.md: each is built when CMake finds its library)\n");
  for (const fs::path& p : plugins) {
    try {
      const softcert::Implementation& impl =
          softcert::certify::connect_remote({softcert::certify::plugin_host_command(p.string()), std::chrono::seconds(30)});
      fmt::print("  {}\n    {}: {}\n", p.string(), impl.name, provided_functions(impl));
    } catch (const softcert::certify::RemoteError& e) {
      fmt::print("  {}\n    cannot be loaded: {}\n", p.string(), e.what());
    }
  }
  std::vector<fs::path> scripts;
  for (const auto& entry : fs::directory_iterator(fs::path(SOFTCERT_SOURCE_DIR) / "adapters" / "python", ec)) {
    if (entry.path().filename().string().ends_with("_adapter.py")) scripts.push_back(entry.path());
  }
  std::sort(scripts.begin(), scripts.end());
  if (!scripts.empty()) fmt::print("\nPython adapters (softcert certify --exec \"python3 PATH\"):\n");
  for (const fs::path& p : scripts) fmt::print("  {}\n", p.string());
}

int list_implementations() {
  fmt::print("builtin implementations (softcert certify --builtin NAME):\n");
  for (const softcert::Implementation& impl : softcert::builtin_implementations()) {
    fmt::print("  {:<10} {}\n", impl.name, provided_functions(impl));
  }
  list_adapters();
  return kExitPass;
}

// What `certify` checks: one of --builtin, --plugin, --exec.
struct Target {
  std::string builtin, plugin, exec;
  double call_timeout = 10;  // seconds per kernel call of a --plugin or --exec target
  std::string state;         // --battery exhaustive: the resumable state file
  softcert::certify::FuzzCampaign fuzz{SOFTCERT_DEFAULT_FUZZER, SOFTCERT_SOURCE_DIR "/fuzz/corpus/plugin",
                                       SOFTCERT_SOURCE_DIR "/fuzz/float.dict", 300, 1};  // --battery deep
};

const softcert::Implementation* resolve(const Target& target) {
  if (!target.builtin.empty()) {
    const softcert::Implementation* impl = softcert::find_builtin(target.builtin);
    if (impl == nullptr) {
      fmt::print(stderr, "softcert: no builtin implementation named '{}' (softcert list shows them)\n", target.builtin);
    }
    return impl;
  }
  softcert::certify::RemoteOptions remote;
  remote.call_timeout = std::chrono::milliseconds(static_cast<long long>(target.call_timeout * 1000));
  if (!target.plugin.empty()) {
    remote.argv = softcert::certify::plugin_host_command(target.plugin);
  } else {
    remote.argv = {"/bin/sh", "-c", "exec " + target.exec};
  }
  try {
    return &softcert::certify::connect_remote(remote);
  } catch (const softcert::certify::RemoteError& e) {
    fmt::print(stderr, "softcert: cannot certify {}: {}\n", target.plugin.empty() ? "'" + target.exec + "'" : target.plugin,
               e.what());
    return nullptr;
  }
}

// Where the report goes besides the terminal.
struct Outputs {
  std::string json, junit, html;
};

// Prints the certificate, writes the requested files (atomically), and returns the exit status
// of the verdict.
int emit(const softcert::certify::Report& report, const Outputs& out) {
  using namespace softcert::certify;
  print_certificate(report, std::cout);
  auto write = [](const std::string& path, const std::string& text, const char* what) {
    if (path.empty()) return;
    write_atomically(path, text);
    fmt::print("{} report written to {}\n", what, path);
  };
  write(out.json, to_json(report).dump(2) + "\n", "JSON");
  write(out.junit, to_junit(report), "JUnit");
  write(out.html, to_html(report), "HTML");
  return report.verdict() == "pass" ? kExitPass : kExitFail;
}

int certify(const Target& target, softcert::certify::BatteryOptions options, const Outputs& out) {
  const softcert::Implementation* impl = resolve(target);
  if (impl == nullptr) return kExitUsage;
  if (options.cases == 0) options.cases = softcert::certify::battery_cases(options.battery);
  // A progress bar only for a person watching: never into a log or a pipe.
  const bool show_progress = ::isatty(STDERR_FILENO) != 0;
  auto bar = [&](std::size_t done, std::size_t total) {
    if (!show_progress) return;
    const std::size_t width = 30, filled = total ? done * width / total : width;
    fmt::print(stderr, "\r  {} [{}{}] {}/{}{}", impl->name, std::string(filled, '#'), std::string(width - filled, '.'), done,
               total, done == total ? "\n" : "");
  };
  softcert::certify::Report report;
  if (options.battery == "exhaustive") {
    report = softcert::certify::run_exhaustive(*impl, {options.jobs, options.shard, options.shards, target.state}, bar);
  } else {
    report = softcert::certify::run_battery(*impl, options, bar);
  }
  if (options.battery == "deep") {  // then a time-boxed fuzz campaign against the plugin
    softcert::certify::FuzzCampaign fuzz = target.fuzz;
    fuzz.jobs = options.jobs;
    if (show_progress) fmt::print(stderr, "  fuzzing {} for {} s\n", impl->name, fuzz.seconds);
    report.checks.push_back(softcert::certify::run_fuzz_campaign(target.plugin, fuzz));
  }
  // Out of process, the floating-point environment each kernel leaves is watched: a check of
  // its own per type that ran any kernel.
  if (target.builtin.empty()) {
    for (const char* dtype : {"f32", "f64", "f16", "bf16"}) {
      const bool ran = std::any_of(report.checks.begin(), report.checks.end(), [&](const softcert::certify::Check& c) {
        return c.dtype == dtype && (c.status == "pass" || c.status == "fail");
      });
      if (!ran) continue;
      const std::string change = softcert::certify::remote_fp_environment_change(dtype);
      softcert::certify::Check c{"kernel", dtype, "isolation/fp_environment_unchanged", change.empty() ? "pass" : "fail"};
      c.reason = change.empty() ? "" : "a kernel left the floating-point environment changed: every later calculation of its caller changes";
      c.counterexample = change;
      report.checks.push_back(std::move(c));
    }
  }
  report.target = !target.builtin.empty() ? "--builtin " + target.builtin
                  : !target.plugin.empty() ? "--plugin " + target.plugin
                                           : "--exec '" + target.exec + "'";
  return emit(report, out);
}

// softcert repro: the failing check's function, type and name from the report, the run's target,
// battery, seed and profile, and only that check again. Exit 1 when it fails again, 0 when it
// passes now, 2 when the report has no such check or its target cannot be run.
int repro(const softcert::certify::Report& saved, const std::string& wanted, unsigned jobs) {
  const softcert::certify::Check* found = nullptr;
  for (const softcert::certify::Check& c : saved.checks) {
    const std::string id = c.function + " " + c.dtype + " " + c.check;
    if (wanted.empty() ? c.status == "fail" : id == wanted) {
      found = &c;
      break;
    }
  }
  if (found == nullptr) {
    fmt::print(stderr, "softcert: the report has {}\n", wanted.empty() ? "no failed check" : "no check '" + wanted + "'");
    return kExitUsage;
  }
  Target target;
  const std::string& t = saved.target;
  if (t.rfind("--builtin ", 0) == 0) target.builtin = t.substr(10);
  else if (t.rfind("--plugin ", 0) == 0) target.plugin = t.substr(9);
  else if (t.rfind("--exec '", 0) == 0 && t.size() > 9) target.exec = t.substr(8, t.size() - 9);
  else target.builtin = saved.implementation;
  softcert::certify::BatteryOptions options;
  options.battery = saved.battery;
  options.cases = softcert::certify::battery_cases(saved.battery);
  options.seed = saved.seed;
  options.profile = saved.profile;
  options.jobs = jobs;
  options.dtypes = {found->dtype};
  if (found->function != "kernel") options.functions = {found->function};
  options.checks = {found->check};
  fmt::print("softcert repro: {} {} {} of {} (battery {}, seed {}, profile {})\n\n", found->function, found->dtype, found->check,
             t.empty() ? saved.implementation : t, saved.battery, saved.seed, saved.profile);
  return certify(target, options, {});
}

softcert::certify::Report load_report(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error("cannot read " + path);
  try {
    return softcert::certify::from_json(nlohmann::json::parse(f));
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(path + ": " + e.what());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"softcert: proves or refutes that a softmax implementation is right"};
  app.require_subcommand(1);

  CLI::App* list = app.add_subcommand("list", "List the implementations softcert can certify");

  CLI::App* cert = app.add_subcommand("certify", "Certify an implementation against the oracle");
  Outputs outputs;
  Target target;
  softcert::certify::BatteryOptions options;
  options.jobs = std::max(1u, std::thread::hardware_concurrency());
  auto* targets = cert->add_option_group("target", "What to certify (one of)");
  targets->add_option("--builtin", target.builtin, "A lib algorithm: stable, online or accurate");
  targets->add_option("--plugin", target.plugin, "A shared library with the plugin ABI (DESIGN.md §3), run isolated")
      ->check(CLI::ExistingFile);
  targets->add_option("--exec", target.exec,
                      "A command that speaks softcert-exec/1 on stdin/stdout (docs/exec-protocol.md), run by /bin/sh");
  targets->require_option(1);
  cert->add_option("--call-timeout", target.call_timeout, "Seconds a --plugin/--exec kernel call may take (default 10)")
      ->check(CLI::PositiveNumber);
  cert->add_option("--battery", options.battery,
                   "smoke (seconds), standard (about a minute), deep (standard, then a --time fuzz campaign against the "
                   "plugin), exhaustive (every float32 input of sigmoid)")
      ->check(CLI::IsMember({"smoke", "standard", "deep", "exhaustive"}));
  cert->add_option("--time", target.fuzz.seconds, "deep: seconds of fuzzing (default 300)")->check(CLI::PositiveNumber);
  cert->add_option("--fuzzer", target.fuzz.fuzzer,
                   "deep: the libFuzzer plugin target (default: build/fuzz/fuzz/softcert_fuzz_plugin, from cmake --preset fuzz)");
  cert->add_option("--state", target.state,
                   "exhaustive: record finished chunks in this file, and resume from it when it exists");
  cert->add_option("--cases", options.cases,
                   "Cases per function, type and regime (default: the battery's); large_n rows (10^5 logits) get 1 per 1,000, none below 40")
      ->check(CLI::PositiveNumber);
  cert->add_option("--seed", options.seed, "Seed of every generated case (same seed, same cases)");
  cert->add_option("--functions", options.functions, "Only these functions (comma-separated)")
      ->delimiter(',')
      ->check(CLI::IsMember(known_functions()));
  cert->add_option("--dtypes", options.dtypes, "Only these types: f32, f64, f16, bf16 (comma-separated)")
      ->delimiter(',')
      ->check(CLI::IsMember({"f32", "f64", "f16", "bf16"}));
  cert->add_option("--profile", options.profile,
                   "compatible: fail only what no convention allows; strict: demand the mathematical limits")
      ->check(CLI::IsMember({"compatible", "strict"}));
  cert->add_option("--jobs,-j", options.jobs, "Threads for the oracle work")->check(CLI::PositiveNumber);
  cert->add_option("--checks", options.checks,
                   "Only these checks (comma-separated names as in the report: property/softmax.sum_to_one, oracle_agreement/ties, ...)")
      ->delimiter(',');
  std::string shard = "1/1";
  cert->add_option("--shard", shard, "K/N: run the K-th of N disjoint parts (merge the N reports with softcert merge)")
      ->check([](const std::string& v) {
        unsigned k = 0, n = 0;
        char end = 0;
        return std::sscanf(v.c_str(), "%u/%u%c", &k, &n, &end) == 2 && k >= 1 && k <= n ? std::string()
                                                                                        : std::string("expected K/N with 1 <= K <= N");
      });
  auto add_outputs = [&](CLI::App* sub) {
    sub->add_option("--json", outputs.json, "Also write the JSON report (schema softcert-report/1) here");
    sub->add_option("--junit", outputs.junit, "Also write JUnit XML (a testcase per check) here");
    sub->add_option("--html", outputs.html, "Also write the self-contained HTML certificate here");
  };
  add_outputs(cert);

  CLI::App* rep = app.add_subcommand("report", "Render a saved JSON report: certificate, HTML, JUnit");
  std::string report_path;
  rep->add_option("REPORT", report_path, "A JSON report written by certify --json or merge")->required()->check(CLI::ExistingFile);
  add_outputs(rep);

  CLI::App* rpr = app.add_subcommand("repro", "Rerun one failed check of a saved JSON report (same target, battery, seed, profile)");
  std::string repro_report, repro_check;
  rpr->add_option("REPORT", repro_report, "A JSON report written by certify --json")->required()->check(CLI::ExistingFile);
  rpr->add_option("CHECK", repro_check,
                  "'FUNCTION DTYPE CHECK' as the certificate prints it, e.g. 'softmax f32 property/softmax.sum_to_one'; "
                  "default: the report's first failure");

  CLI::App* mrg = app.add_subcommand("merge", "Join the JSON reports of the N shards of one run (certify --shard K/N)");
  std::vector<std::string> shard_paths;
  mrg->add_option("REPORTS", shard_paths, "The shards' JSON reports, all N of them")->required()->check(CLI::ExistingFile);
  add_outputs(mrg);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  try {
    if (*list) return list_implementations();
    if (*rep) return emit(load_report(report_path), outputs);
    if (*rpr) return repro(load_report(repro_report), repro_check, options.jobs);
    if (*mrg) {
      std::vector<softcert::certify::Report> shards;
      for (const std::string& p : shard_paths) shards.push_back(load_report(p));
      return emit(softcert::certify::merge(shards), outputs);
    }
    std::sscanf(shard.c_str(), "%u/%u", &options.shard, &options.shards);
    return certify(target, options, outputs);
  } catch (const std::exception& e) {
    fmt::print(stderr, "softcert: {}\n", e.what());
    return kExitUsage;
  }
}

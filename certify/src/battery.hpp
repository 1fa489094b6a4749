// A battery: the checks the certifier runs on one implementation, and the report they make.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "softcert/implementation.hpp"
#include "softcert/properties/agreement.hpp"

namespace softcert::certify {

struct Check {
  std::string function;
  std::string dtype;
  std::string check;   // "tutorial_example", "oracle_agreement/<regime>" or "property/<name>"
  std::string status;  // "pass" | "fail" | "declined" | "skipped"
  std::string reason;  // why it failed or was declined
  std::string counterexample;  // inputs as hex floats, the output, the exact value, the seed
  std::size_t cases = 0;
  double max_ulp = 0;         // oracle agreement: largest error in ULPs
  double max_ulp_normal = 0;  // ... on outputs in the normal range
  std::vector<properties::Agreement::Sample> samples;  // oracle agreement: per case, for plots
};

struct Report {
  std::string implementation;
  std::string battery;
  std::uint64_t seed = 0;
  std::string profile = "compatible";
  std::string shard = "1/1";  // "K/N" of a shard's report; "1/1" for a whole or merged one
  std::vector<Check> checks;
  std::string target;  // the command-line target ("--builtin accurate", "--plugin x.so"), for repro

  // "pass" when at least one check passed and none failed; "fail" otherwise (a run that
  // certified nothing is not a pass).
  std::string verdict() const;
  bool nothing_certified() const;
};

struct BatteryOptions {
  std::string battery = "standard";   // smoke | standard
  std::size_t cases = 0;              // cases per function, type and regime (0: the battery's)
  std::uint64_t seed = 1;
  std::vector<std::string> functions;  // empty: all
  std::vector<std::string> dtypes;     // empty: all (f32, f64, f16, bf16)
  std::vector<std::string> checks;     // empty: all; else check names ("property/softmax.sum_to_one")
  std::string profile = "compatible";  // compatible | strict (DESIGN.md §2)
  unsigned jobs = 1;
  unsigned shard = 1, shards = 1;      // --shard K/N: this run does the K-th of N disjoint parts
};

// Cases per (function, type, regime) of a named battery; 0 for an unknown name.
std::size_t battery_cases(const std::string& battery);

// Runs the battery; `progress(done, total)` is called as checks finish (may be empty).
Report run_battery(const Implementation& impl, const BatteryOptions& options,
                   const std::function<void(std::size_t, std::size_t)>& progress);

}  // namespace softcert::certify

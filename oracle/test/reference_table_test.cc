// The oracle against an independent reference: oracle/testdata/reference_table.jsonl, computed
// with mpmath by oracle/tools/make_reference_table.py (its own rounding, its own formulas). Every
// expected value must match bit for bit (+0 and -0 differ; any NaN matches NaN). The reduced formats
// (dtype "f16", "bf16": softmax and log_softmax only) go through the FloatFormat overloads, values
// carried as floats.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "softcert/oracle.hpp"

namespace softcert::oracle {
namespace {

using nlohmann::json;

template <typename T>
T parse(const std::string& s) {
  if constexpr (std::is_same_v<T, float>) return std::strtof(s.c_str(), nullptr);
  else return std::strtod(s.c_str(), nullptr);
}

template <typename T>
std::vector<T> parse_list(const json& j) {
  std::vector<T> out;
  for (const auto& s : j) out.push_back(parse<T>(s.get<std::string>()));
  return out;
}

template <typename T>
bool same(T a, T b) {
  if (std::isnan(a) && std::isnan(b)) return true;
  return std::memcmp(&a, &b, sizeof(T)) == 0;
}

template <typename T>
std::vector<Exact<T>> evaluate(const json& c) {
  const std::string f = c["function"];
  auto x = [&] { return parse_list<T>(c["x"]); };
  if (f == "softmax") return softmax<T>(x());
  if (f == "log_softmax") return log_softmax<T>(x());
  if (f == "logsumexp") return {logsumexp<T>(x())};
  if (f == "softmax_temperature") return softmax_temperature<T>(x(), parse<T>(c["t"]));
  if (f == "sigmoid") return {sigmoid<T>(x().at(0))};
  if (f == "cross_entropy") return {cross_entropy<T>(x(), c["label"].get<std::size_t>())};
  if (f == "cross_entropy_grad") return cross_entropy_grad<T>(x(), c["label"].get<std::size_t>());
  if (f == "softmax_backward") return softmax_backward<T>(parse_list<T>(c["y"]), parse_list<T>(c["dy"]));
  if (f == "masked_softmax") return masked_softmax<T>(x(), c["keep"].get<std::vector<std::uint8_t>>());
  if (f == "attention") {
    return attention<T>(parse_list<T>(c["q"]), parse_list<T>(c["k"]), parse_list<T>(c["v"]),
                        c["lq"], c["lk"], c["d"], c["dv"], c["causal"].get<bool>());
  }
  throw std::runtime_error("unknown function " + f);
}

// A reduced-format case: softmax / log_softmax of a row of values of `format`, rounded to it.
std::vector<Exact<float>> evaluate_reduced(const json& c, const FloatFormat& format) {
  const std::string f = c["function"];
  const std::vector<float> x = parse_list<float>(c["x"]);
  if (f == "softmax") return softmax(std::span<const float>(x), format);
  if (f == "log_softmax") return log_softmax(std::span<const float>(x), format);
  throw std::runtime_error("no " + f + " for " + std::string(format.name));
}

template <typename T>
std::string check(const json& c, const FloatFormat* reduced = nullptr) {
  const std::vector<T> expected = parse_list<T>(c["expected"]);
  std::vector<Exact<T>> got;
  if constexpr (std::is_same_v<T, float>) {
    got = reduced ? evaluate_reduced(c, *reduced) : evaluate<T>(c);
  } else {
    got = evaluate<T>(c);
  }
  if (got.size() != expected.size()) return fmt::format("{} outputs, table has {}", got.size(), expected.size());
  std::string diff;
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (!same(got[i].value, expected[i])) {
      diff += fmt::format(" [{}] oracle {:a} table {:a};", i, got[i].value, expected[i]);
    }
  }
  return diff;
}

TEST(ReferenceTable, OracleAgreesBitForBit) {
  std::ifstream in(SOFTCERT_REFERENCE_TABLE);
  ASSERT_TRUE(in) << "cannot open " << SOFTCERT_REFERENCE_TABLE;
  std::map<std::string, int> per_function;
  std::size_t cases = 0, failures = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    const json c = json::parse(line);
    const std::string dtype = c["dtype"];
    std::string diff;
    try {
      if (dtype == "f16") diff = check<float>(c, &kBinary16);
      else if (dtype == "bf16") diff = check<float>(c, &kBFloat16);
      else if (dtype == "f32") diff = check<float>(c);
      else if (dtype == "f64") diff = check<double>(c);
      else diff = " unknown dtype " + dtype;
    } catch (const std::exception& e) {
      diff = std::string(" threw: ") + e.what();
    }
    ++cases;
    ++per_function[c["function"].get<std::string>() + "/" + dtype];
    if (!diff.empty()) {
      ++failures;
      ADD_FAILURE() << "case " << c["id"] << " " << c["function"] << " " << dtype << " ("
                    << c["regime"] << "):" << diff;
    }
  }
  EXPECT_GE(cases, 2000u) << "the reference table must hold at least 2,000 cases";
  for (const auto& [key, count] : per_function) EXPECT_GT(count, 0) << key;
  EXPECT_EQ(per_function.size(), 24u) << "every function in both types, softmax and log_softmax in f16 and bf16";
  for (const char* key : {"softmax/f16", "softmax/bf16", "log_softmax/f16", "log_softmax/bf16"}) {
    EXPECT_GE(per_function[key], 300) << key << ": the reduced formats need several hundred cases each";
  }
  std::cout << cases << " reference cases, " << failures << " disagreements (reduced formats:";
  for (const char* key : {"softmax/f16", "softmax/bf16", "log_softmax/f16", "log_softmax/bf16"}) {
    std::cout << " " << key << " " << per_function[key];
  }
  std::cout << ")\n";
}

}  // namespace
}  // namespace softcert::oracle

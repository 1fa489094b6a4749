// Proof that the catalogue bites: every deliberately broken implementation of test/broken/ (each
// a real-world root cause) fails at least one named property, and every correct lib algorithm
// fails none (no false alarm), with the same inputs (the same seeds) in the compatible profile.
// With SOFTCERT_BROKEN_TABLE=path set, the catching properties are written there as the markdown
// table of docs/broken-implementations.md.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "softcert/properties/agreement.hpp"
#include "softcert/properties/catalogue.hpp"
#include "softcert/properties/plugin.hpp"
#include "softcert/properties/search.hpp"

namespace softcert::properties {
namespace {

constexpr std::size_t kTries = 60;
constexpr std::uint64_t kSeed = 20261128;

std::vector<std::string> broken_names() {
  std::vector<std::string> names;
  std::stringstream list(SOFTCERT_BROKEN_PLUGINS);
  for (std::string name; std::getline(list, name, ',');) names.push_back(name);
  return names;
}

// "property (type)" for every property that fails impl, and the first failure's detail.
template <typename T>
void catches(const Implementation& impl, std::vector<std::string>& by, std::string& first) {
  for (const Property<T>& p : catalogue<T>()) {
    const SearchResult r = search(p, impl, Profile::compatible, kTries, kSeed);
    if (!r.failure) continue;
    by.push_back(fmt::format("{} ({})", p.info.name, dtype_name<T>()));
    if (first.empty()) first = r.failure->detail;
  }
}

// The f16/bf16 kernels (the catalogue's properties are f32/f64): oracle agreement in every regime
// but large_n, as the certifier checks them.
void catches_reduced(const Implementation& impl, std::vector<std::string>& by, std::string& first) {
  for (const FloatFormat* format : kReducedFormats) {
    for (Function f : {Function::softmax, Function::log_softmax}) {
      for (Regime r : kAllRegimes) {
        if (r == Regime::large_n) continue;
        std::vector<Case<float>> cases;
        for (std::uint64_t i = 0; i < 12; ++i) cases.push_back(make_reduced_case(f, r, kSeed + i, *format));
        if (!provides(impl, cases[0])) break;
        const Agreement a = measure<float>(impl, cases, bound_model_for(impl.name));
        if (a.over_bound == 0) continue;
        by.push_back(fmt::format("{}.oracle_agreement/{} ({})", function_name(f), regime_name(r), format->name));
        if (first.empty()) first = a.worst;
      }
    }
  }
}

TEST(BrokenSet, EveryBrokenImplementationIsCaught) {
  const std::vector<std::string> names = broken_names();
  ASSERT_GE(names.size(), 25u) << "the broken set needs at least 25 root causes";
  std::string table = "| broken implementation | caught by | first counterexample |\n|---|---|---|\n";
  std::size_t caught = 0;
  for (const std::string& name : names) {
    const Plugin plugin(std::string(SOFTCERT_BROKEN_PLUGIN_DIR) + "/libbroken-" + name + ".so");
    std::vector<std::string> by;
    std::string first;
    catches<float>(plugin.implementation(), by, first);
    catches<double>(plugin.implementation(), by, first);
    catches_reduced(plugin.implementation(), by, first);
    EXPECT_FALSE(by.empty()) << name << " passes every property: the catalogue misses its bug";
    caught += !by.empty();
    std::string list;
    for (const std::string& b : by) list += (list.empty() ? "" : ", ") + ("`" + b + "`");
    if (first.size() > 300) first = first.substr(0, 300) + "...";
    for (char& c : first) if (c == '|') c = '/';
    table += fmt::format("| `{}` | {} | {} |\n", name, by.empty() ? "**not caught**" : list, first);
  }
  std::cout << caught << " of " << names.size() << " broken implementations caught\n";
  if (const char* path = std::getenv("SOFTCERT_BROKEN_TABLE")) {
    std::ofstream(path) << table;
  }
}

TEST(BrokenSet, CorrectAlgorithmsRaiseNoFalseAlarm) {
  for (const Implementation& impl : builtin_implementations()) {
    std::vector<std::string> by;
    std::string first;
    catches<float>(impl, by, first);
    catches<double>(impl, by, first);
    catches_reduced(impl, by, first);
    EXPECT_TRUE(by.empty()) << impl.name << " fails " << (by.empty() ? "" : by.front()) << ": " << first;
  }
}

}  // namespace
}  // namespace softcert::properties

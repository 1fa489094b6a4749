#include "report.hpp"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <ostream>
#include <stdexcept>
#include <unistd.h>

namespace softcert::certify {

std::vector<Grade> grades(const Report& report) {
  std::map<std::pair<std::string, std::string>, Grade> by_key;
  std::vector<std::pair<std::string, std::string>> order;
  bool failed_any = false;
  std::map<std::pair<std::string, std::string>, bool> failed;
  for (const Check& c : report.checks) {
    if (c.check.rfind("oracle_agreement/", 0) != 0 || c.status == "declined") continue;
    const auto key = std::make_pair(c.function, c.dtype);
    auto [it, inserted] = by_key.try_emplace(key, Grade{c.function, c.dtype, ""});
    if (inserted) order.push_back(key);
    Grade& g = it->second;
    g.max_ulp = std::max(g.max_ulp, c.max_ulp);
    g.max_ulp_normal = std::max(g.max_ulp_normal, c.max_ulp_normal);
    ++g.checks;
    failed[key] |= c.status == "fail";
    failed_any |= c.status == "fail";
  }
  std::vector<Grade> out;
  for (const auto& key : order) {
    Grade g = by_key[key];
    // Graded on every output, subnormal ones included (their ULP is the smallest subnormal).
    g.grade = failed[key] ? "fails"
              : g.max_ulp <= 0.5 ? "correctly rounded"
              : g.max_ulp <= 1.0 ? "faithful"
                                 : "within bound";
    out.push_back(g);
  }
  return out;
}

void print_certificate(const Report& report, std::ostream& out) {
  fmt::print(out, "softcert certificate for {}  (battery {}, seed {})\n\n", report.implementation,
             report.battery, report.seed);
  fmt::print(out, "  {:<22} {:<5} {:<18} {:>14} {:>10}\n", "function", "type", "grade",
             "max ULP normal", "max ULP");
  for (const Grade& g : grades(report)) {
    fmt::print(out, "  {:<22} {:<5} {:<18} {:>14.4g} {:>10.4g}\n", g.function, g.dtype, g.grade,
               g.max_ulp_normal, g.max_ulp);
  }
  std::size_t passed = 0, failed = 0, declined = 0, skipped = 0;
  for (const Check& c : report.checks) {
    passed += c.status == "pass";
    failed += c.status == "fail";
    declined += c.status == "declined";
    skipped += c.status == "skipped";
  }
  for (const Check& c : report.checks) {
    if (c.status != "fail") continue;
    fmt::print(out, "\n  FAIL {} {} {}: {}\n       {}\n", c.function, c.dtype, c.check, c.reason,
               c.counterexample);
  }
  fmt::print(out, "\n  {} checks: {} passed, {} failed, {} declined, {} skipped\n",
             report.checks.size(), passed, failed, declined, skipped);
  if (report.nothing_certified()) {
    fmt::print(out, "verdict: FAIL (nothing certified)\n");
  } else {
    fmt::print(out, "verdict: {}\n", report.verdict() == "pass" ? "PASS" : "FAIL");
  }
}

nlohmann::json to_json(const Report& report) {
  nlohmann::json j;
  j["schema"] = "softcert-report/1";
  j["implementation"] = report.implementation;
  j["verdict"] = report.verdict();
  j["battery"] = report.battery;
  j["seed"] = report.seed;
  // JSON has no infinity: a wrong special value's infinite ULP error is written as null.
  auto number = [](double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(); };
  for (const Grade& g : grades(report)) {
    j["grades"].push_back({{"function", g.function}, {"dtype", g.dtype}, {"grade", g.grade},
                           {"max_ulp_normal", number(g.max_ulp_normal)}, {"max_ulp", number(g.max_ulp)}});
  }
  j["checks"] = nlohmann::json::array();
  for (const Check& c : report.checks) {
    nlohmann::json item = {{"function", c.function}, {"dtype", c.dtype}, {"check", c.check},
                           {"status", c.status},     {"cases", c.cases}};
    if (c.check.rfind("oracle_agreement/", 0) == 0) {
      item["max_ulp"] = number(c.max_ulp);
      item["max_ulp_normal"] = number(c.max_ulp_normal);
    }
    if (!c.reason.empty()) item["reason"] = c.reason;
    if (!c.counterexample.empty()) item["counterexample"] = c.counterexample;
    j["checks"].push_back(std::move(item));
  }
  return j;
}

void write_atomically(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream f(temporary, std::ios::binary | std::ios::trunc);
    if (!f) throw std::runtime_error("cannot write " + temporary);
    f << text;
    f.flush();
    if (!f) throw std::runtime_error("cannot write " + temporary);
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    throw std::runtime_error("cannot rename " + temporary + " to " + path);
  }
}

}  // namespace softcert::certify

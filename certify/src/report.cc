#include "report.hpp"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <cmath>
#include <limits>
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
    const bool measured = c.check.rfind("oracle_agreement/", 0) == 0 || c.check.rfind("exhaustive/", 0) == 0;
    if (!measured || c.status == "declined" || c.status == "skipped") continue;
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
  j["profile"] = report.profile;
  j["shard"] = report.shard;
  j["target"] = report.target;
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
    if (c.check.rfind("oracle_agreement/", 0) == 0 || c.check.rfind("exhaustive/", 0) == 0) {
      item["max_ulp"] = number(c.max_ulp);
      item["max_ulp_normal"] = number(c.max_ulp_normal);
      nlohmann::json samples = nlohmann::json::array();
      for (const auto& x : c.samples) samples.push_back({x.n, number(x.spread), number(x.max_ulp)});
      item["samples"] = std::move(samples);  // [n, spread, max ULP] per case
    }
    if (!c.reason.empty()) item["reason"] = c.reason;
    if (!c.counterexample.empty()) item["counterexample"] = c.counterexample;
    j["checks"].push_back(std::move(item));
  }
  return j;
}

Report from_json(const nlohmann::json& j) {
  if (!j.is_object() || j.value("schema", "") != "softcert-report/1") {
    throw std::runtime_error("not a softcert-report/1 document");
  }
  Report r;
  r.implementation = j.at("implementation").get<std::string>();
  r.battery = j.at("battery").get<std::string>();
  r.seed = j.at("seed").get<std::uint64_t>();
  r.profile = j.value("profile", "compatible");
  r.shard = j.value("shard", "1/1");
  r.target = j.value("target", "");
  auto number = [](const nlohmann::json& x) {
    return x.is_number() ? x.get<double>() : std::numeric_limits<double>::infinity();
  };
  for (const nlohmann::json& item : j.at("checks")) {
    Check c;
    c.function = item.at("function").get<std::string>();
    c.dtype = item.at("dtype").get<std::string>();
    c.check = item.at("check").get<std::string>();
    c.status = item.at("status").get<std::string>();
    c.cases = item.value("cases", std::size_t(0));
    c.reason = item.value("reason", "");
    c.counterexample = item.value("counterexample", "");
    if (item.contains("max_ulp")) c.max_ulp = number(item["max_ulp"]);
    if (item.contains("max_ulp_normal")) c.max_ulp_normal = number(item["max_ulp_normal"]);
    if (item.contains("samples")) {
      for (const nlohmann::json& x : item["samples"]) {
        c.samples.push_back({x.at(0).get<std::size_t>(), number(x.at(1)), number(x.at(2))});
      }
    }
    r.checks.push_back(std::move(c));
  }
  return r;
}

Report merge(const std::vector<Report>& shards) {
  if (shards.empty()) throw std::runtime_error("no reports to merge");
  const Report& first = shards.front();
  std::vector<const Report*> by_shard;
  unsigned total = 0;
  for (const Report& r : shards) {
    unsigned k = 0, n = 0;
    if (std::sscanf(r.shard.c_str(), "%u/%u", &k, &n) != 2 || k < 1 || k > n) {
      throw std::runtime_error("a report with shard '" + r.shard + "'");
    }
    if (total == 0) total = n, by_shard.assign(n, nullptr);
    if (n != total) throw std::runtime_error("reports of different shard counts (" + first.shard + ", " + r.shard + ")");
    if (r.implementation != first.implementation || r.battery != first.battery || r.seed != first.seed ||
        r.profile != first.profile) {
      throw std::runtime_error("reports of different runs (implementation, battery, seed or profile differ)");
    }
    if (by_shard[k - 1] != nullptr) throw std::runtime_error("shard " + r.shard + " given twice");
    by_shard[k - 1] = &r;
  }
  Report merged{first.implementation, first.battery, first.seed, first.profile, "1/1", {}, first.target};
  for (unsigned k = 0; k < total; ++k) {
    if (by_shard[k] == nullptr) throw std::runtime_error(fmt::format("shard {}/{} is missing", k + 1, total));
    merged.checks.insert(merged.checks.end(), by_shard[k]->checks.begin(), by_shard[k]->checks.end());
  }
  return merged;
}

std::string xml_escape(const std::string& s) {
  std::string out;
  for (unsigned char ch : s) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default:
        if (ch < 0x20 && ch != '\n' && ch != '\t') out += ' ';  // XML 1.0 has no other controls
        else out += static_cast<char>(ch);
    }
  }
  return out;
}

std::string to_junit(const Report& report) {
  std::map<std::string, std::vector<const Check*>> suites;
  std::vector<std::string> order;
  for (const Check& c : report.checks) {
    const std::string suite = c.function + "." + c.dtype;
    if (!suites.count(suite)) order.push_back(suite);
    suites[suite].push_back(&c);
  }
  std::size_t failures = 0, skipped = 0;
  for (const Check& c : report.checks) failures += c.status == "fail", skipped += c.status != "pass" && c.status != "fail";
  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x += fmt::format("<testsuites name=\"softcert {}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">\n",
                   xml_escape(report.implementation), report.checks.size(), failures, skipped);
  for (const std::string& suite : order) {
    std::size_t f = 0, k = 0;
    for (const Check* c : suites[suite]) f += c->status == "fail", k += c->status != "pass" && c->status != "fail";
    x += fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">\n", xml_escape(suite),
                     suites[suite].size(), f, k);
    for (const Check* c : suites[suite]) {
      x += fmt::format("    <testcase classname=\"softcert.{}\" name=\"{}\"", xml_escape(suite), xml_escape(c->check));
      if (c->status == "pass") {
        x += "/>\n";
      } else if (c->status == "fail") {
        x += fmt::format(">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n", xml_escape(c->reason),
                         xml_escape(c->counterexample));
      } else {
        x += fmt::format(">\n      <skipped message=\"{}: {}\"/>\n    </testcase>\n", c->status, xml_escape(c->reason));
      }
    }
    x += "  </testsuite>\n";
  }
  return x + "</testsuites>\n";
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

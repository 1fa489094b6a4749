// The HTML certificate (report.hpp): one self-contained page, no script, no external resource;
// the plots are inline SVG drawn from the oracle-agreement checks' per-case samples.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "report.hpp"

namespace softcert::certify {
namespace {

const auto& esc = xml_escape;

using Samples = std::vector<properties::Agreement::Sample>;

// log2 of a ULP error for the plots' y axis: ≤ 0.5 ULP at the bottom, non-finite at the top.
constexpr double kTopBits = 24;
double y_bits(double ulp) {
  if (!std::isfinite(ulp)) return kTopBits;
  return std::clamp(std::log2(std::max(ulp, 0.5)), -1.0, kTopBits);
}

// Histogram of per-case largest errors in bins (≤0.5], (0.5,1], (1,2], ... (2^23, ∞].
std::string histogram(const Samples& s, const std::string& title) {
  std::vector<std::size_t> bins(26, 0);
  for (const auto& x : s) {
    const int b = !std::isfinite(x.max_ulp) ? 25 : x.max_ulp <= 0.5 ? 0 : std::min(24, 1 + int(std::ceil(std::log2(x.max_ulp))));
    ++bins[std::clamp(b, 0, 25)];
  }
  const std::size_t top = std::max<std::size_t>(1, *std::max_element(bins.begin(), bins.end()));
  const int w = 260, h = 120, left = 30, bottom = 20, bw = (w - left) / 26;
  std::string svg = fmt::format(R"(<svg class="plot histogram" width="{}" height="{}" role="img"><title>{}</title>)", w, h + 16,
                                esc(title));
  svg += fmt::format(R"(<text x="{}" y="12" class="t">{}</text>)", left, esc(title));
  for (int b = 0; b < 26; ++b) {
    const double bar = double(bins[b]) / double(top) * (h - bottom - 16);
    const char* cls = b == 0 ? "cr" : b == 1 ? "fa" : b == 25 ? "bad" : "wb";
    svg += fmt::format(R"(<rect class="{}" x="{}" y="{:.1f}" width="{}" height="{:.1f}"><title>{} cases</title></rect>)", cls,
                       left + b * bw, h - bottom - bar, bw - 1, bar, bins[b]);
  }
  svg += fmt::format(R"(<text x="{}" y="{}" class="a">≤½</text><text x="{}" y="{}" class="a">1</text>)", left, h - 6,
                     left + bw, h - 6);
  svg += fmt::format(R"(<text x="{}" y="{}" class="a">2¹⁰</text><text x="{}" y="{}" class="a">∞ ULP</text></svg>)",
                     left + 11 * bw, h - 6, left + 23 * bw, h - 6);
  return svg;
}

// Per-case largest error (log2 ULP) against x (log10(1 + spread) or log2 n).
std::string scatter(const Samples& s, const std::string& title, bool by_n) {
  const int w = 260, h = 120, left = 30, bottom = 20;
  double xmax = 1;
  auto xv = [&](const properties::Agreement::Sample& x) {
    return by_n ? std::log2(double(std::max<std::size_t>(1, x.n))) : std::log10(1 + (std::isfinite(x.spread) ? x.spread : 1e308));
  };
  for (const auto& x : s) xmax = std::max(xmax, xv(x));
  std::string svg = fmt::format(R"(<svg class="plot scatter" width="{}" height="{}" role="img"><title>{}</title>)", w, h + 16,
                                esc(title));
  svg += fmt::format(R"(<text x="{}" y="12" class="t">{}</text>)", left, esc(title));
  svg += fmt::format(R"(<line x1="{0}" y1="{1}" x2="{2}" y2="{1}" class="ax"/><line x1="{0}" y1="16" x2="{0}" y2="{1}" class="ax"/>)",
                     left, h - bottom, w - 4);
  const double plot_w = w - left - 8, plot_h = h - bottom - 20;
  for (const auto& x : s) {
    const double px = left + 2 + xv(x) / xmax * plot_w;
    const double py = h - bottom - (y_bits(x.max_ulp) + 1) / (kTopBits + 1) * plot_h;
    svg += fmt::format(R"(<circle cx="{:.1f}" cy="{:.1f}" r="1.6" class="{}"/>)", px, py,
                       !std::isfinite(x.max_ulp) ? "bad" : x.max_ulp <= 0.5 ? "cr" : x.max_ulp <= 1 ? "fa" : "wb");
  }
  svg += fmt::format(R"(<text x="2" y="{}" class="a">½</text><text x="2" y="22" class="a">2²⁴</text>)", h - bottom);
  svg += fmt::format(R"(<text x="{}" y="{}" class="a">{}</text></svg>)", w - 90, h - 6,
                     by_n ? fmt::format("n (to {:.0f})", std::exp2(xmax)) : fmt::format("spread (to 1e{:.0f})", xmax));
  return svg;
}

}  // namespace

std::string to_html(const Report& report) {
  std::size_t passed = 0, failed = 0, declined = 0, skipped = 0;
  for (const Check& c : report.checks) {
    passed += c.status == "pass", failed += c.status == "fail";
    declined += c.status == "declined", skipped += c.status == "skipped";
  }
  const bool pass = report.verdict() == "pass";
  const std::string verdict = pass ? "PASS" : report.nothing_certified() ? "FAIL (nothing certified)" : "FAIL";
  std::string h = R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>softcert certificate: )" + esc(report.implementation) + R"(</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222;max-width:1200px}
h1{font-size:1.4em;margin:0 0 .3em}
#verdict{display:inline-block;padding:.3em 1em;border-radius:4px;font-weight:bold;font-size:1.3em;color:#fff}
#verdict.pass{background:#2a7d2a}#verdict.fail{background:#b52020}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.g-cr{background:#d8f0d8}.g-fa{background:#e8f5d0}.g-wb{background:#fff5cc}.g-fails{background:#f8d0d0}
.plots{display:flex;flex-wrap:wrap;gap:.5em 1.5em}.fn{margin:1em 0 .3em;font-weight:bold}
svg .cr{fill:#2a7d2a}svg .fa{fill:#7cb342}svg .wb{fill:#e0a800}svg .bad{fill:#b52020}
svg .t{font-size:11px;font-weight:bold}svg .a{font-size:9px;fill:#555}svg .ax{stroke:#888}
pre{white-space:pre-wrap;word-break:break-all;background:#f6f6f6;padding:.5em;font-size:12px}
</style></head><body>
)";
  h += fmt::format("<h1>softcert certificate: {}</h1>\n", esc(report.implementation));
  h += fmt::format(R"(<p><span id="verdict" class="{}">{}</span></p>)", pass ? "pass" : "fail", esc(verdict));
  h += fmt::format("\n<p>battery <b>{}</b>, seed {}, profile {}{}; {} checks: {} passed, {} failed, {} declined, {} skipped.</p>\n",
                   esc(report.battery), report.seed, esc(report.profile),
                   report.target.empty() ? "" : ", target <code>" + esc(report.target) + "</code>", report.checks.size(),
                   passed, failed, declined, skipped);

  // Grades and flags per function and type.
  std::map<std::pair<std::string, std::string>, std::map<std::string, std::string>> flags;
  for (const Check& c : report.checks) {
    auto& f = flags[{c.function, c.dtype}];
    auto note = [&](const std::string& flag) {
      std::string& v = f[flag];
      v = c.status == "fail" ? "no" : (v == "no" ? "no" : c.status == "pass" ? "yes" : v);
    };
    if (c.check == "special_values/fixed_rows" && c.status != "declined") {
      f["NaN-propagating"] = c.reason.find("NaN rows") == std::string::npos ? "yes" : "no";
      f["+inf limit"] = c.reason.find("+inf rows") == std::string::npos ? "yes" : "no";
    }
    if (c.check == "behaviour/fully_masked_row" && c.status != "declined") f["fully masked row"] = c.reason;
    if (c.check == "behaviour/subnormal_results" && c.status != "declined") {
      f["flushes subnormals"] = c.reason == "flushes subnormal results to zero" ? "yes" : "no";
    }
    if (c.check == "oracle_agreement/huge_offset" || c.check == "oracle_agreement/near_overflow") note("overflow-safe");
    if (c.check == "oracle_agreement/neg_inf_entries") note("−inf entries");
  }
  std::map<std::string, std::string> kernel_flags;  // kernel.* properties, per type
  for (const Check& c : report.checks) {
    if (c.function == "kernel" && c.check == "property/kernel.determinism") kernel_flags[c.dtype] = c.status;
  }
  h += "<h2>Grades</h2>\n<table><tr><th>function</th><th>type</th><th>grade</th><th>max ULP (normal)</th><th>max ULP</th>"
       "<th>flags</th></tr>\n";
  for (const Grade& g : grades(report)) {
    const std::string cls = g.grade == "correctly rounded" ? "cr" : g.grade == "faithful" ? "fa" : g.grade == "fails" ? "fails" : "wb";
    std::string fl;
    for (const auto& [name, value] : flags[{g.function, g.dtype}]) {
      if (!value.empty()) fl += fmt::format("{}{}: {}", fl.empty() ? "" : "; ", esc(name), value);
    }
    if (kernel_flags.count(g.dtype)) {
      fl += fmt::format("{}deterministic: {}", fl.empty() ? "" : "; ", kernel_flags[g.dtype] == "pass" ? "yes" : "no");
    }
    h += fmt::format(R"(<tr class="g-{}"><td>{}</td><td>{}</td><td>{}</td><td class="num">{:.4g}</td><td class="num">{:.4g}</td><td>{}</td></tr>)",
                     cls, esc(g.function), esc(g.dtype), esc(g.grade), g.max_ulp_normal, g.max_ulp, fl);
    h += "\n";
  }
  h += "</table>\n<p>Grades over every output, subnormal ones included: correctly rounded ≤ 0.5 ULP, faithful ≤ 1 ULP, "
       "within bound: inside the standard algorithm's a-priori error bound (docs/bounds.md); fails: some output beyond it.</p>\n";

  // Failures, each with a command that reruns its function and type.
  if (failed > 0) {
    h += "<h2>Failures</h2>\n";
    for (const Check& c : report.checks) {
      if (c.status != "fail") continue;
      h += fmt::format("<h3>{} {} {}</h3>\n<p>{}</p>\n<pre>{}</pre>\n", esc(c.function), esc(c.dtype), esc(c.check),
                       esc(c.reason), esc(c.counterexample));
      const std::string fn = c.function == "kernel" ? "" : " --functions " + c.function;
      h += fmt::format("<p>repro: <code>softcert repro report.json '{} {} {}'</code>, or <code>softcert certify {} --battery {} "
                       "--seed {} --profile {}{} --dtypes {} --checks {}</code></p>\n",
                       esc(c.function), esc(c.dtype), esc(c.check),
                       esc(report.target.empty() ? "--builtin " + report.implementation : report.target), esc(report.battery),
                       report.seed, esc(report.profile), esc(fn), esc(c.dtype), esc(c.check));
    }
  }

  // Plots per function and type, from the oracle agreement samples.
  h += "<h2>Error plots</h2>\n<p>Each point or count is one generated case, at its largest error over all outputs "
       "(log scale; green ≤ ½ ULP, light green ≤ 1, amber above, red non-finite or a wrong special value).</p>\n";
  std::map<std::pair<std::string, std::string>, Samples> samples;
  std::vector<std::pair<std::string, std::string>> order;
  for (const Check& c : report.checks) {
    if (c.samples.empty()) continue;
    const auto key = std::make_pair(c.function, c.dtype);
    if (!samples.count(key)) order.push_back(key);
    auto& v = samples[key];
    v.insert(v.end(), c.samples.begin(), c.samples.end());
  }
  for (const auto& key : order) {
    const std::string name = key.first + " " + key.second;
    h += fmt::format(R"(<div class="fn">{}</div><div class="plots">)", esc(name));
    h += histogram(samples[key], "ULP error: " + name);
    h += scatter(samples[key], "error vs logit spread", false);
    h += scatter(samples[key], "error vs n", true);
    h += "</div>\n";
  }
  h += "</body></html>\n";
  return h;
}

}  // namespace softcert::certify

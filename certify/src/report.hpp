// Rendering a certification report: the terminal certificate and the JSON report (DESIGN.md §6).
#pragma once

#include <iosfwd>
#include <string>

#include <nlohmann/json.hpp>

#include "battery.hpp"

namespace softcert::certify {

// The grade of one function and type over its oracle-agreement checks: "correctly rounded"
// (every output, subnormal ones included, within 0.5 ULP), "faithful" (within 1 ULP), "within
// bound" (the algorithm's a-priori bound), or "fails".
struct Grade {
  std::string function, dtype, grade;
  double max_ulp_normal = 0;
  double max_ulp = 0;
  std::size_t checks = 0;
};
std::vector<Grade> grades(const Report& report);

void print_certificate(const Report& report, std::ostream& out);

// Schema "softcert-report/1" (docs/report-schema.md): implementation, verdict, battery, seed,
// profile, shard, grades, checks (oracle agreement checks with their per-case samples).
nlohmann::json to_json(const Report& report);
// The report back from its JSON (softcert report, softcert merge); throws std::runtime_error
// on a document that is not softcert-report/1.
Report from_json(const nlohmann::json& j);

// Joins shard reports (softcert merge): their checks, in shard order; the shards must be of the
// same implementation, battery, seed and profile, each K of 1..N exactly once.
Report merge(const std::vector<Report>& shards);

// `s` with &, <, > and " as entities and other control characters (XML 1.0 has none) as spaces:
// safe in XML and HTML text and attributes. The JUnit and HTML writers share it.
std::string xml_escape(const std::string& s);

// JUnit XML: one testsuite per function and type, one testcase per check.
std::string to_junit(const Report& report);

// A self-contained HTML certificate: verdict, grades and flags, failures with their repro
// command, and inline SVG plots (ULP-error histograms, error against spread and against n).
std::string to_html(const Report& report);

// Writes `text` to `path` atomically (a temporary file beside it, then rename); throws on error.
void write_atomically(const std::string& path, const std::string& text);

}  // namespace softcert::certify

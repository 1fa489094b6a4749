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

// Schema "softcert-report/1": implementation, verdict, battery, seed, grades, checks.
nlohmann::json to_json(const Report& report);

// Writes `text` to `path` atomically (a temporary file beside it, then rename); throws on error.
void write_atomically(const std::string& path, const std::string& text);

}  // namespace softcert::certify

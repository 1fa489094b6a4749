// What the simd tests (simd_test.cc, simd_backward_test.cc, simd_f64_test.cc) share: a body run on
// every Highway target compiled into lib that this CPU can run, not only the one dispatch picks;
// the builtin implementations by name; and the oracle checks of "within 1 ULP, nearly always
// correctly rounded".
#pragma once

#include <gtest/gtest.h>
#include <hwy/targets.h>

#include <cstddef>
#include <cstdint>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "simd.hpp"
#include "softcert/properties/agreement.hpp"

namespace softcert::properties {

// Runs body(name) once per target, dispatch forced to it; restores the real CPU afterwards.
template <typename Body>
void for_each_target(Body&& body) {
  const std::vector<std::int64_t> targets = lib::simd_targets();
  ASSERT_FALSE(targets.empty());
  for (std::int64_t target : targets) {
    hwy::SetSupportedTargetsForTest(target);
    const std::string name = hwy::TargetName(target);
    EXPECT_EQ(lib::simd_dispatched_target(), target) << name;
    SCOPED_TRACE(name);
    body(name);
  }
  hwy::SetSupportedTargetsForTest(0);
}

// A builtin implementation of lib ("simd", "accurate").
inline const Implementation& builtin(std::string_view name) {
  const Implementation* impl = find_builtin(name);
  EXPECT_NE(impl, nullptr) << name;
  return *impl;
}

// A call of `mine` that also calls `theirs` with the same arguments and expects the same return
// code (the bad-input tests: simd's kernels reject what accurate's reject, with the same code).
template <typename Mine, typename Theirs>
auto same_code_as(Mine mine, Theirs theirs) {
  return [=](auto... args) {
    const int got = mine(args...);
    EXPECT_EQ(got, theirs(args...));
    return got;
  };
}

// Outputs of impl on the cases that are not the correctly rounded value.
template <typename T>
std::size_t misrounded(const Implementation& impl, const std::vector<Case<T>>& cases) {
  std::size_t count = 0;
  for (const Case<T>& c : cases) {
    std::vector<T> out;
    EXPECT_EQ(run(impl, c, out), SOFTCERT_OK);
    for (std::size_t i = 0; i < out.size(); ++i) count += out[i] != c.exact[i].value;
  }
  return count;
}

// simd on the cases against the oracle: nothing declined, nothing over the oracle's bound, <= 1 ULP
// everywhere; prints the figures. Returns the number of outputs not correctly rounded.
template <typename T>
std::size_t expect_within_one_ulp(const std::vector<Case<T>>& cases, const std::string& what) {
  const Implementation& simd = builtin("simd");
  const Agreement a = measure<T>(simd, cases, bound_model_for("simd"));
  const std::size_t wrong = misrounded(simd, cases);
  std::cout << what << ": " << a.outputs << " outputs, max " << a.max_ulp << " ULP, " << wrong
            << " not correctly rounded\n";
  EXPECT_EQ(a.declined, 0u) << what;
  EXPECT_EQ(a.over_bound, 0u) << what << " worst: " << a.worst;
  EXPECT_LE(a.max_ulp, 1.0) << what << " worst: " << a.worst;
  return wrong;
}

}  // namespace softcert::properties

// For the simd tests: runs a body once per Highway target compiled into lib that this CPU can run,
// not only the one dispatch picks.
#pragma once

#include <gtest/gtest.h>
#include <hwy/targets.h>

#include <cstdint>
#include <string>
#include <vector>

#include "simd.hpp"

namespace softcert::lib {

// Runs body(name) once per target, dispatch forced to it; restores the real CPU afterwards.
template <typename Body>
void for_each_target(Body&& body) {
  const std::vector<std::int64_t> targets = simd_targets();
  ASSERT_FALSE(targets.empty());
  for (std::int64_t target : targets) {
    hwy::SetSupportedTargetsForTest(target);
    const std::string name = hwy::TargetName(target);
    EXPECT_EQ(simd_dispatched_target(), target) << name;
    SCOPED_TRACE(name);
    body(name);
  }
  hwy::SetSupportedTargetsForTest(0);
}

}  // namespace softcert::lib

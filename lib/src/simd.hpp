// `simd`: the f32 softmax family vectorised with Google Highway and dispatched at run time to the
// best target this CPU supports (simd.cc). These hooks let a test run every compiled target, not
// only the best: hwy::SetSupportedTargetsForTest(t) for each t of simd_targets() before calling
// the kernels, hwy::SetSupportedTargetsForTest(0) afterwards.
#pragma once

#include <cstdint>
#include <vector>

namespace softcert::lib {

// The Highway targets simd.cc was compiled for that this CPU can run, best first
// (hwy::TargetName names them).
std::vector<std::int64_t> simd_targets();

// The target the next simd call dispatches to.
std::int64_t simd_dispatched_target();

}  // namespace softcert::lib

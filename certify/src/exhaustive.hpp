// The exhaustive battery: every one of the 2^32 float32 inputs of each unary function the
// implementation exports (sigmoid), against the oracle, on all cores, in resumable chunks.
#pragma once

#include <functional>
#include <string>

#include "battery.hpp"

namespace softcert::certify {

struct ExhaustiveOptions {
  unsigned jobs = 1;
  unsigned shard = 1, shards = 1;  // chunk c belongs to shard (c mod shards) + 1
  std::string state;               // a file recording finished chunks: a rerun resumes there
};

// One check per unary f32 function ("exhaustive/all_f32_inputs"): its max ULP error over every
// input, and every input whose output is beyond the a-priori bound (the first 32 listed, with
// the count). `progress(done, total)` counts chunks of 2^20 inputs.
Report run_exhaustive(const Implementation& impl, const ExhaustiveOptions& options,
                      const std::function<void(std::size_t, std::size_t)>& progress);

}  // namespace softcert::certify

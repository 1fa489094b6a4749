// broken-bf16_accumulator: the sum of the exponentials is kept in a narrower type than the kernel's:
// bfloat16 (8-bit significand, rounded after each addition) in the f32 kernel, float in the f64
// kernel. Every output then carries a ~2^-9 (f32) / ~2^-24 (f64) relative error, far beyond the
// standard algorithm's bound, and the sum stalls once it reaches 256 (n ≥ 256 equal logits).
// In the wild: mixed-precision kernels that accumulate in the storage type (bf16/fp16) instead of fp32.
// Revealed by: f32 softmax([0x0p+0, -0x1p+0]) = [0x1.767dcep-1, 0x1.13891p-2]; exact [0x1.764d5p-1, 0x1.136562p-2].
#include <bit>

#include "common.hpp"

namespace {
float round_to_bf16(float x) {  // round to nearest even on the upper 16 bits
  std::uint32_t b = std::bit_cast<std::uint32_t>(x);
  b += 0x7fffu + ((b >> 16) & 1u);
  return std::bit_cast<float>(b & 0xffff0000u);
}

struct Bf16Accumulator : broken::Stable<Bf16Accumulator> {
  static void accumulate(float& sum, float x) { sum = round_to_bf16(sum + x); }  // BUG: bf16 accumulator
  static void accumulate(double& sum, double x) {
    sum = static_cast<float>(static_cast<float>(sum) + static_cast<float>(x));  // BUG: float accumulator
  }
};
}  // namespace

BROKEN_PLUGIN("bf16_accumulator")
BROKEN_EXPORT_SOFTMAX_FAMILY(Bf16Accumulator)

// broken-attention_scaled_by_d: attention scores are divided by d instead of √d, so the attention
// weights are too flat (the softmax sees scores √d times too small).
// In the wild: attention implementations writing scores / d_k instead of scores / sqrt(d_k).
// Revealed by: f32 attention, d = 4, dv = 1: q = [0x1p+0 × 4], k = [[0x1p+0 × 4], [0x0p+0 × 4]], v = [[0x1p+0], [0x0p+0]] → 0x1.764d5p-1; exact 0x1.c2f7d6p-1.
#include "common.hpp"

namespace {
struct AttentionScaledByD : broken::Stable<AttentionScaledByD> {
  template <typename T>
  static T score_scale(size_t d) {
    return static_cast<T>(d);  // BUG: should be sqrt(d)
  }
};
}  // namespace

BROKEN_PLUGIN("attention_scaled_by_d")
BROKEN_EXPORT_SOFTMAX_FAMILY(AttentionScaledByD)
BROKEN_EXPORT_ATTENTION(AttentionScaledByD)

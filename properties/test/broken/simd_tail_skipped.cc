// broken-simd_tail_skipped: the max and sum reductions run over whole 8-lane vectors only
// (i < n & ~7) with no remainder loop, while the output loop covers all n. The last n mod 8 logits
// are missing from max and sum (outputs above 1, or inf for n < 8: max -inf, sum 0).
// In the wild: hand-vectorised kernels whose reduction forgets the scalar tail.
// Revealed by: f32 softmax of n = 9: [0x0p+0 × 8, 0x1.4p+2] → y[8] = 0x1.28d38ap+4 (18.55); exact 0x1.e5d01ep-1.
#include "common.hpp"

namespace {
struct SimdTailSkipped : broken::Stable<SimdTailSkipped> {
  template <typename T>
  static void softmax_regular(const broken::Scan<T>&, const T* z, T* y, size_t n, const uint8_t*, T) {
    const size_t body = n & ~size_t(7);  // BUG: the reductions stop here; no remainder loop
    T m = -broken::kInf<T>, sum = 0;
    for (size_t i = 0; i < body; ++i) m = std::max(m, z[i]);
    for (size_t i = 0; i < body; ++i) sum += std::exp(z[i] - m);
    for (size_t i = 0; i < n; ++i) y[i] = std::exp(z[i] - m) / sum;
  }
};
}  // namespace

BROKEN_PLUGIN("simd_tail_skipped")
BROKEN_EXPORT_SOFTMAX_FAMILY(SimdTailSkipped)  // log_softmax and logsumexp are correct

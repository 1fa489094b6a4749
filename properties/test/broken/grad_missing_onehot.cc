// broken-grad_missing_onehot: the cross-entropy gradient returns p, forgetting to subtract the
// one-hot of the label (the gradient then sums to 1 instead of 0).
// In the wild: hand-written fused softmax + cross-entropy backward kernels.
// Revealed by: f32 cross_entropy_grad([0x0p+0, 0x0p+0], label 0) = [0x1p-1, 0x1p-1]; exact [-0x1p-1, 0x1p-1].
#include "common.hpp"

namespace {
struct GradMissingOnehot : broken::Stable<GradMissingOnehot> {
  template <typename T>
  static void cross_entropy_grad_regular(const broken::Scan<T>& s, const T* z, size_t, T* g, size_t n) {
    softmax_regular(s, z, g, n, nullptr, T(1));  // BUG: missing g[label] -= 1
  }
};
}  // namespace

BROKEN_PLUGIN("grad_missing_onehot")
BROKEN_EXPORT_SOFTMAX_FAMILY(GradMissingOnehot)
BROKEN_EXPORT_CROSS_ENTROPY(GradMissingOnehot)
BROKEN_EXPORT_CROSS_ENTROPY_GRAD(GradMissingOnehot)

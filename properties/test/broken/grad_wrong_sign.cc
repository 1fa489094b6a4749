// broken-grad_wrong_sign: the cross-entropy gradient is returned as onehot - p instead of p - onehot
// (the gradient of the log-likelihood, not of the loss), so training ascends the loss.
// In the wild: hand-written backward passes mixing up the loss and the log-likelihood.
// Revealed by: f32 cross_entropy_grad([0x0p+0, 0x0p+0], label 0) = [0x1p-1, -0x1p-1]; exact [-0x1p-1, 0x1p-1].
#include "common.hpp"

namespace {
struct GradWrongSign : broken::Stable<GradWrongSign> {
  template <typename T>
  static void cross_entropy_grad_regular(const broken::Scan<T>& s, const T* z, size_t label, T* g, size_t n) {
    softmax_regular(s, z, g, n, nullptr, T(1));
    for (size_t i = 0; i < n; ++i) g[i] = (i == label ? T(1) : T(0)) - g[i];  // BUG: onehot - p
  }
};
}  // namespace

BROKEN_PLUGIN("grad_wrong_sign")
BROKEN_EXPORT_SOFTMAX_FAMILY(GradWrongSign)
BROKEN_EXPORT_CROSS_ENTROPY(GradWrongSign)
BROKEN_EXPORT_CROSS_ENTROPY_GRAD(GradWrongSign)

// broken-backward_missing_term: softmax_backward returns y_i dy_i, forgetting the - y_i Σ_j y_j dy_j
// term of the Jacobian (softmax treated as if it were elementwise).
// In the wild: hand-written backward passes using only the diagonal of the softmax Jacobian.
// Revealed by: f32 softmax_backward(y = [0x1p-1, 0x1p-1], dy = [0x1p+0, 0x0p+0]) = [0x1p-1, 0x0p+0]; exact [0x1p-2, -0x1p-2].
#include "common.hpp"

namespace {
struct BackwardMissingTerm : broken::Stable<BackwardMissingTerm> {
  template <typename T>
  static void softmax_backward_row(const T* y, const T* dy, T* dx, size_t n) {
    for (size_t i = 0; i < n; ++i) dx[i] = y[i] * dy[i];  // BUG: missing - y_i * dot(y, dy)
  }
};
}  // namespace

BROKEN_PLUGIN("backward_missing_term")
BROKEN_EXPORT_SOFTMAX_FAMILY(BackwardMissingTerm)
BROKEN_EXPORT_SOFTMAX_BACKWARD(BackwardMissingTerm)

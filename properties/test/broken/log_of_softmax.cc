// broken-log_of_softmax: log_softmax computed as log(softmax(z)): where a probability underflows to
// 0 the result is -inf instead of z_i - lse (and it loses all relative accuracy before that).
// In the wild: user code and losses writing log(softmax(x)) instead of a fused log_softmax.
// Revealed by: f32 log_softmax([0x0p+0, -0x1.9p+7]) (0, -200) = [0x0p+0, -inf]; exact [0x0p+0, -0x1.9p+7].
#include "common.hpp"

namespace {
struct LogOfSoftmax : broken::Stable<LogOfSoftmax> {
  template <typename T>
  static void log_softmax_row(const T* z, T* y, size_t n) {
    softmax_row(z, y, n, nullptr, T(1));
    for (size_t i = 0; i < n; ++i) y[i] = std::log(y[i]);  // BUG: log of a rounded (maybe 0) probability
  }
};
}  // namespace

BROKEN_PLUGIN("log_of_softmax")
BROKEN_EXPORT_SOFTMAX_FAMILY(LogOfSoftmax)

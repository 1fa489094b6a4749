// broken-no_max_subtraction: softmax as exp(z_i) / Σ exp(z_j), without subtracting the row max
// first, so exp overflows to inf (inf / inf = NaN) or every exp underflows to 0 (0 / 0 = NaN).
// In the wild: the textbook one-liner exp(x) / sum(exp(x)) in tutorials, homework and quick ports.
// Revealed by: f32 softmax([0x1.9p+6, 0x0p+0]) (logits 100, 0) = [nan, 0x0p+0]; exact [0x1p+0, 0x1.bp-145].
#include "common.hpp"

namespace {
struct NoMaxSubtraction : broken::Stable<NoMaxSubtraction> {
  template <typename T>
  static void softmax_regular(const broken::Scan<T>&, const T* z, T* y, size_t n, const uint8_t* keep, T t) {
    const T sum = exp_sum(z, y, n, T(0) /* BUG: should subtract the max, s.max */, t, keep);
    for (size_t i = 0; i < n; ++i) {
      if (!keep || keep[i]) y[i] /= sum;
    }
  }
};
}  // namespace

BROKEN_PLUGIN("no_max_subtraction")
BROKEN_EXPORT_SOFTMAX_FAMILY(NoMaxSubtraction)  // log_softmax and logsumexp are correct
BROKEN_EXPORT_SOFTMAX_TEMPERATURE(NoMaxSubtraction)

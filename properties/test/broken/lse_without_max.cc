// broken-lse_without_max: logsumexp computed as log(Σ exp(z_j)) without the max shift: +inf for
// logits above ~88.7 (f32) / ~709.8 (f64), -inf when every exp underflows. Cross-entropy, built
// on it, inherits the overflow.
// In the wild: the textbook log(sum(exp(x))) in loss and likelihood code.
// Revealed by: f32 logsumexp([0x1.9p+6, 0x0p+0]) (100, 0) = inf; exact 0x1.9p+6.
#include "common.hpp"

namespace {
struct LseWithoutMax : broken::Stable<LseWithoutMax> {
  template <typename T>
  static T logsumexp_regular(const broken::Scan<T>&, const T* z, size_t n) {
    T sum = 0;
    for (size_t i = 0; i < n; ++i) sum += std::exp(z[i]);  // BUG: no shift by the max
    return std::log(sum);
  }
};
}  // namespace

BROKEN_PLUGIN("lse_without_max")
BROKEN_EXPORT_SOFTMAX_FAMILY(LseWithoutMax)  // softmax and log_softmax are correct
BROKEN_EXPORT_CROSS_ENTROPY(LseWithoutMax)

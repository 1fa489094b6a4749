// broken-cross_entropy_from_probs: the loss is -log(softmax(z)[y]) computed from the rounded
// probability, so it is +inf as soon as p_y underflows to 0 (the exact loss is lse - z_y, finite).
// In the wild: user code computing -log(softmax(x)[y]) instead of a fused cross-entropy.
// Revealed by: f32 cross_entropy([0x0p+0, -0x1.9p+7], label 1) (0, -200) = inf; exact 0x1.9p+7.
#include "common.hpp"

namespace {
struct CrossEntropyFromProbs : broken::Stable<CrossEntropyFromProbs> {
  template <typename T>
  static T cross_entropy_regular(const broken::Scan<T>& s, const T* z, size_t label, size_t n) {
    std::vector<T> p(n);
    softmax_regular(s, z, p.data(), n, nullptr, T(1));
    return -std::log(p[label]);  // BUG: log of a probability that may have underflowed
  }
};
}  // namespace

BROKEN_PLUGIN("cross_entropy_from_probs")
BROKEN_EXPORT_SOFTMAX_FAMILY(CrossEntropyFromProbs)
BROKEN_EXPORT_CROSS_ENTROPY(CrossEntropyFromProbs)

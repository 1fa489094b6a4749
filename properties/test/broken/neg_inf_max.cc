// broken-neg_inf_max: a row with no finite entry (all -inf: a fully masked row) is not special-cased,
// so its max is -inf and z - max = -inf - (-inf) = NaN: logsumexp returns NaN where it must be
// exactly -inf, and cross-entropy NaN where it must be +inf (softmax / log_softmax come out all-NaN,
// which DESIGN.md §2 happens to allow).
// In the wild: attention / masked-softmax kernels with max initialised to -inf and no fully-masked guard.
// Revealed by: f32 logsumexp([-inf, -inf]) = nan; exact -inf.
#include "common.hpp"

namespace {
struct NegInfMax : broken::Stable<NegInfMax> {
  template <typename T>
  static broken::Scan<T> classify(const T* z, size_t n, const uint8_t* keep) {
    broken::Scan<T> s = broken::scan(z, n, keep);
    if (s.kind == broken::Kind::all_neg_inf) s.kind = broken::Kind::regular;  // BUG: max = -inf goes on
    return s;
  }
};
}  // namespace

BROKEN_PLUGIN("neg_inf_max")
BROKEN_EXPORT_SOFTMAX_FAMILY(NegInfMax)
BROKEN_EXPORT_CROSS_ENTROPY(NegInfMax)

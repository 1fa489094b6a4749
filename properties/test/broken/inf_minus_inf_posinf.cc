// broken-inf_minus_inf_posinf: +inf logits go through the arithmetic. The row max includes +inf,
// and the guard "an infinite max is replaced by 0" (meant for rows of only -inf) then leaves
// exp(+inf - 0) = inf in the sum: softmax inf / inf = NaN, log_softmax (inf - 0) - inf = NaN at
// the +inf entry while the other entries get 0 and -inf, a mix that no convention allows.
// In the wild: the "max.masked_fill(isinf(max), 0)" guard of logsumexp code reused for (log_)softmax.
// Revealed by: f32 log_softmax([inf, 0x0p+0]) = [nan, -inf]; exact [0x0p+0, -inf] (softmax [nan, 0x0p+0]; exact [0x1p+0, 0x0p+0]).
#include "common.hpp"

namespace {
struct InfMinusInf : broken::Stable<InfMinusInf> {
  // Only NaN rows are special here; a row with +inf or with only -inf is "regular".
  template <typename T>
  static broken::Scan<T> classify(const T* z, size_t n, const uint8_t* keep) {
    broken::Scan<T> s = broken::scan(z, n, keep);
    if (s.kind == broken::Kind::nan) return s;
    if (s.pos_inf > 0) s.max = broken::kInf<T>;  // the max over the row, +inf included
    s.kind = broken::Kind::regular;
    return s;
  }
  template <typename T>
  static T shift(const broken::Scan<T>& s) {
    return std::isinf(s.max) ? T(0) : s.max;  // BUG: right for -inf, but leaves inf - inf for +inf
  }
};
}  // namespace

BROKEN_PLUGIN("inf_minus_inf_posinf")
BROKEN_EXPORT_SOFTMAX_FAMILY(InfMinusInf)

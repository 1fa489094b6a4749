// broken-pad_with_zero: the row is padded to whole 8-lane vectors with 0.0 instead of -inf, so each
// padding lane adds exp(0 - max) to the sum: wrong whenever n is not a multiple of 8 and the max is
// not far above 0.
// In the wild: tiled/SIMD kernels that zero-fill the tail of the last tile before a softmax.
// Revealed by: f32 softmax([0x0p+0, 0x0p+0, 0x0p+0]) = [0x1p-3, 0x1p-3, 0x1p-3]; exact [0x1.555556p-2 × 3].
#include "common.hpp"

namespace {
struct PadWithZero : broken::Stable<PadWithZero> {
  template <typename T>
  static T exp_sum(const T* z, T* e, size_t n, T m, T t, const uint8_t* keep) {
    const size_t padded = (n + 7) / 8 * 8;
    T sum = 0;
    for (size_t i = 0; i < padded; ++i) {
      if (i < n && keep && !keep[i]) {
        if (e) e[i] = 0;
        continue;
      }
      const T zi = i < n ? z[i] : T(0);  // BUG: padding must be -inf
      const T ei = std::exp(scale(zi - m, t));
      if (e && i < n) e[i] = ei;
      sum += ei;
    }
    return sum;
  }
};
}  // namespace

BROKEN_PLUGIN("pad_with_zero")
BROKEN_EXPORT_SOFTMAX_FAMILY(PadWithZero)

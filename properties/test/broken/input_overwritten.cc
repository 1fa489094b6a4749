// broken-input_overwritten: the exponentials are stored into the INPUT buffer (const_cast) as scratch
// before being normalised into the output: every output is right, but the caller's logits are gone.
// In the wild: in-place kernels reused for out-of-place calls, using the source as their workspace.
// Revealed by: f32 softmax([0x0p+0, 0x0p+0]) leaves x = [0x1p+0, 0x1p+0] (output [0x1p-1, 0x1p-1] is right); x must be unchanged.
#include "common.hpp"

namespace {
struct InputOverwritten : broken::Stable<InputOverwritten> {
  template <typename T>
  static void softmax_regular(const broken::Scan<T>& s, const T* z, T* y, size_t n, const uint8_t* keep, T t) {
    T* scratch = const_cast<T*>(z);  // BUG: the input is the workspace
    const T sum = exp_sum(z, scratch, n, s.max, t, keep);
    for (size_t i = 0; i < n; ++i) y[i] = (!keep || keep[i]) ? scratch[i] / sum : T(0);
  }
};
}  // namespace

BROKEN_PLUGIN("input_overwritten")
BROKEN_EXPORT_SOFTMAX_FAMILY(InputOverwritten)

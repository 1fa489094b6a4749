// broken-mask_after_normalize: masked_softmax takes the softmax over ALL entries and then zeroes the
// masked ones, without renormalising: the kept probabilities sum to less than 1.
// In the wild: attention code that multiplies the probabilities by the mask instead of masking the scores.
// Revealed by: f32 masked_softmax([0x0p+0, 0x0p+0], keep [1, 0]) = [0x1p-1, 0x0p+0]; exact [0x1p+0, 0x0p+0].
#include "common.hpp"

namespace {
struct MaskAfterNormalize : broken::Stable<MaskAfterNormalize> {
  template <typename T>
  static int masked_softmax(const T* x, const uint8_t* keep, T* y, size_t rows, size_t n) {
    if (keep == nullptr) return SOFTCERT_ERR_NULL;
    if (int e = broken::check_rows<T>(x, y, rows, n)) return e;
    for (size_t r = 0; r < rows; ++r) {
      softmax_row(x + r * n, y + r * n, n, nullptr, T(1));  // over every entry, masked ones too
      for (size_t i = 0; i < n; ++i) {
        if (!keep[r * n + i]) y[r * n + i] = 0;  // BUG: zeroed after normalising, never renormalised
      }
    }
    return SOFTCERT_OK;
  }
};
}  // namespace

BROKEN_PLUGIN("mask_after_normalize")
BROKEN_EXPORT_SOFTMAX_FAMILY(MaskAfterNormalize)
BROKEN_EXPORT_MASKED_SOFTMAX(MaskAfterNormalize)

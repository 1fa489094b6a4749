// broken-additive_mask_bias: masking adds a finite bias of -10000 to the masked logits instead of
// excluding them. A fully masked row is then the softmax of its raw logits (neither all-NaN, all-0
// nor uniform: no convention allows it), and a masked logit 10000 above the kept ones wins.
// In the wild: BERT-style extended attention masks, scores + (1 - mask) * -10000.
// Revealed by: f32 masked_softmax([0x0p+0, 0x1.4p+2], keep [0, 0]) = [0x1.b69f68p-8, 0x1.fc92c2p-1]; allowed: all 0, all NaN or [0x1p-1, 0x1p-1].
#include "common.hpp"

namespace {
struct AdditiveMaskBias : broken::Stable<AdditiveMaskBias> {
  template <typename T>
  static int masked_softmax(const T* x, const uint8_t* keep, T* y, size_t rows, size_t n) {
    if (keep == nullptr) return SOFTCERT_ERR_NULL;
    if (int e = broken::check_rows<T>(x, y, rows, n)) return e;
    std::vector<T> biased(n);
    for (size_t r = 0; r < rows; ++r) {
      for (size_t i = 0; i < n; ++i) biased[i] = x[r * n + i] + (keep[r * n + i] ? T(0) : T(-10000));  // BUG
      softmax_row(biased.data(), y + r * n, n, nullptr, T(1));
    }
    return SOFTCERT_OK;
  }
};
}  // namespace

BROKEN_PLUGIN("additive_mask_bias")
BROKEN_EXPORT_SOFTMAX_FAMILY(AdditiveMaskBias)
BROKEN_EXPORT_MASKED_SOFTMAX(AdditiveMaskBias)

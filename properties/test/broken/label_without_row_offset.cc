// broken-label_without_row_offset: the label is used as an index into the whole batch rather than
// into its row: z[label] instead of z[r * n + label] for the loss, and the gradient's -1 lands in
// row 0. Right when rows == 1, wrong for every later row.
// In the wild: flat indexing in batched loss kernels (the row offset forgotten for the gathered logit).
// Revealed by: f32 cross_entropy, rows = 2: [[0x0p+0, 0x0p+0], [0x0p+0, 0x1p+0]], labels [0, 1] → loss[1] = 0x1.5031eap+0; exact 0x1.40c7acp-2.
#include "common.hpp"

namespace {
struct LabelWithoutRowOffset : broken::Stable<LabelWithoutRowOffset> {
  template <typename T>
  static int cross_entropy(const T* z, const int64_t* labels, T* loss, size_t rows, size_t n) {
    if (labels == nullptr) return SOFTCERT_ERR_NULL;
    if (int e = broken::check_rows<T>(z, loss, rows, n)) return e;
    if (int e = broken::check_labels(labels, rows, n)) return e;
    for (size_t r = 0; r < rows; ++r) {
      const T* row = z + r * n;
      const auto label = static_cast<size_t>(labels[r]);
      const broken::Scan<T> s = classify(row, n, nullptr);
      loss[r] = s.kind == broken::Kind::regular ? logsumexp_regular(s, row, n) - z[label]  // BUG: row[label]
                                                : cross_entropy_special(s, row, label);
    }
    return SOFTCERT_OK;
  }
  template <typename T>
  static int cross_entropy_grad(const T* z, const int64_t* labels, T* grad, size_t rows, size_t n) {
    if (labels == nullptr) return SOFTCERT_ERR_NULL;
    if (int e = broken::check_rows<T>(z, grad, rows, n)) return e;
    if (int e = broken::check_labels(labels, rows, n)) return e;
    for (size_t r = 0; r < rows; ++r) {
      const T* row = z + r * n;
      const auto label = static_cast<size_t>(labels[r]);
      const broken::Scan<T> s = classify(row, n, nullptr);
      if (s.kind == broken::Kind::regular) {
        softmax_regular(s, row, grad + r * n, n, nullptr, T(1));
        grad[label] -= 1;  // BUG: (grad + r * n)[label]
      } else {
        cross_entropy_grad_special(s, row, label, grad + r * n, n);
      }
    }
    return SOFTCERT_OK;
  }
};
}  // namespace

BROKEN_PLUGIN("label_without_row_offset")
BROKEN_EXPORT_SOFTMAX_FAMILY(LabelWithoutRowOffset)
BROKEN_EXPORT_CROSS_ENTROPY(LabelWithoutRowOffset)
BROKEN_EXPORT_CROSS_ENTROPY_GRAD(LabelWithoutRowOffset)

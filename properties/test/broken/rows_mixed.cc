// broken-rows_mixed: in a batch, the max is reduced once (over row 0) outside the row loop and
// reused for every row, so a later row with larger (or much smaller) logits overflows (underflows).
// Single-row calls are right.
// In the wild: batched kernels that hoist a reduction out of the row loop or share one block max across rows.
// Revealed by: f32 softmax, rows = 2: [[0x0p+0, 0x0p+0], [0x1.9p+6, 0x1.9p+6]] → row 1 = [nan, nan]; exact [0x1p-1, 0x1p-1].
#include "common.hpp"

namespace {
struct RowsMixed : broken::Stable<RowsMixed> {
  template <typename T>
  static int softmax(const T* x, T* y, size_t rows, size_t n) {
    if (int e = broken::check_rows<T>(x, y, rows, n)) return e;
    const T batch_max = classify(x, n, nullptr).max;  // BUG: row 0's max, hoisted out of the row loop
    for (size_t r = 0; r < rows; ++r) {
      broken::Scan<T> s = classify(x + r * n, n, nullptr);
      s.max = batch_max;
      if (s.kind == broken::Kind::regular) softmax_regular(s, x + r * n, y + r * n, n, nullptr, T(1));
      else softmax_special(s, x + r * n, y + r * n, n, nullptr);
    }
    return SOFTCERT_OK;
  }
};
}  // namespace

BROKEN_PLUGIN("rows_mixed")
BROKEN_EXPORT_SOFTMAX_FAMILY(RowsMixed)  // log_softmax and logsumexp are correct

// hostile-unwritten_output: every softmax call (f32 and f64) with valid arguments returns
// SOFTCERT_OK having written every output element but the last one, y[rows * n - 1], which it never
// touches (whatever the caller left there stays). The others are correct. A call that fails
// validation returns its error code.
// In the wild: a vectorised store loop whose remainder is skipped; an uninitialised tail.
// A certifier must poison the output before the call and report a failed check: returned OK
// without writing its output (the last element).
#include <vector>

#include "common.hpp"

namespace {
template <typename T>
int kernel(const T* x, T* y, size_t rows, size_t n) {
  if (const int e = hostile::check(x, y, rows, n)) return e;
  std::vector<T> full(rows * n);
  hostile::softmax(x, full.data(), rows, n);
  for (size_t i = 0; i + 1 < rows * n; ++i) y[i] = full[i];
  return SOFTCERT_OK;
}
}  // namespace

HOSTILE_PLUGIN("unwritten_output")
HOSTILE_EXPORT_SOFTMAX(kernel)

// hostile-write_past_output: every softmax call (f32 and f64) with valid arguments computes its
// output correctly, then also stores 1 into y[rows * n], the element just past the end of its
// output. A call that fails validation returns its error code and writes nothing.
// In the wild: SIMD kernels that store whole vectors for the tail; an off-by-one loop bound.
// A certifier must catch the write in a guard zone after the output and report a failed check:
// wrote after its output.
#include "common.hpp"

namespace {
template <typename T>
int kernel(const T* x, T* y, size_t rows, size_t n) {
  const int status = hostile::softmax(x, y, rows, n);
  if (status == SOFTCERT_OK) y[rows * n] = T(1);  // one past the end
  return status;
}
}  // namespace

HOSTILE_PLUGIN("write_past_output")
HOSTILE_EXPORT_SOFTMAX(kernel)

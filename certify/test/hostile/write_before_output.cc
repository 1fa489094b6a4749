// hostile-write_before_output: every softmax call (f32 and f64) with valid arguments computes its
// output correctly, then also stores 1 into y[-1], the element just before its output. A call that
// fails validation returns its error code and writes nothing.
// In the wild: a backwards loop that runs one step too far (i >= 0 on an index that is one too
// low), or a header slot written in front of a caller's buffer.
// A certifier must catch the write in a guard zone before the output and report a failed check:
// wrote before its output.
#include "common.hpp"

namespace {
template <typename T>
int kernel(const T* x, T* y, size_t rows, size_t n) {
  const int status = hostile::softmax(x, y, rows, n);
  if (status == SOFTCERT_OK) {
    T* const before = y - 1;
    *before = T(1);
  }
  return status;
}
}  // namespace

HOSTILE_PLUGIN("write_before_output")
HOSTILE_EXPORT_SOFTMAX(kernel)

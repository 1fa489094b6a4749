// hostile-exit_mid_call: every softmax call (f32 and f64) with valid arguments writes the first
// half (rounded down) of its correct output, then calls exit(3): the process ends normally, atexit
// handlers and stdio flushing included, in the middle of the call. A call that fails validation
// (null or empty) exits at once.
// In the wild: a library that calls exit() on an error it considers fatal (a failed allocation, a
// licence or device check).
// A certifier must notice that the process ended without answering and report a failed check:
// exited with status 3 during the call.
#include <cstdlib>
#include <vector>

#include "common.hpp"

namespace {
template <typename T>
int kernel(const T* x, T* y, size_t rows, size_t n) {
  if (hostile::check(x, y, rows, n) == SOFTCERT_OK) {
    std::vector<T> full(rows * n);
    hostile::softmax(x, full.data(), rows, n);
    for (size_t i = 0; i < rows * n / 2; ++i) y[i] = full[i];
  }
  std::exit(3);
}
}  // namespace

HOSTILE_PLUGIN("exit_mid_call")
HOSTILE_EXPORT_SOFTMAX(kernel)

// hostile-abort: every softmax call (f32 and f64) calls abort(), so the process dies of SIGABRT
// inside the call.
// In the wild: a failed assert() in a release build that kept assertions, or a library's fatal
// error handler.
// A certifier must survive it (the call runs in a child process) and report a failed check:
// crashed, killed by SIGABRT.
#include <cstdlib>

#include "common.hpp"

namespace {
template <typename T>
int kernel(const T* x, T* y, size_t rows, size_t n) {
  std::abort();
  return hostile::softmax(x, y, rows, n);
}
}  // namespace

HOSTILE_PLUGIN("abort")
HOSTILE_EXPORT_SOFTMAX(kernel)

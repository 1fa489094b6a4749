// hostile-sigfpe: every softmax call (f32 and f64) raises SIGFPE, whose default action kills the
// process inside the call.
// In the wild: an integer division by zero, or a kernel that unmasks floating-point exceptions
// (feenableexcept) and then overflows.
// A certifier must survive it (the call runs in a child process) and report a failed check:
// crashed, killed by SIGFPE.
#include <csignal>

#include "common.hpp"

namespace {
template <typename T>
int kernel(const T* x, T* y, size_t rows, size_t n) {
  std::raise(SIGFPE);
  return hostile::softmax(x, y, rows, n);
}
}  // namespace

HOSTILE_PLUGIN("sigfpe")
HOSTILE_EXPORT_SOFTMAX(kernel)

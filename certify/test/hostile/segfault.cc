// hostile-segfault: every softmax call (f32 and f64) stores through a null pointer before doing
// anything else, so the process dies of SIGSEGV inside the call.
// In the wild: a kernel that dereferences an unchecked workspace or context pointer.
// A certifier must survive it (the call runs in a child process) and report a failed check:
// crashed, killed by SIGSEGV.
#include "common.hpp"

namespace {
template <typename T>
int kernel(const T* x, T* y, size_t rows, size_t n) {
  // The pointer is volatile, so the compiler cannot prove it null and turn the store into a trap
  // instruction (SIGILL); the pointee is volatile, so the store cannot be dropped as dead. It is a
  // real store to address 0.
  volatile int* volatile null = nullptr;
  *null = 42;
  return hostile::softmax(x, y, rows, n);
}
}  // namespace

HOSTILE_PLUGIN("segfault")
HOSTILE_EXPORT_SOFTMAX(kernel)

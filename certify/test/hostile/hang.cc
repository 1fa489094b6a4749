// hostile-hang: every softmax call (f32 and f64) never returns. It sleeps in a loop whose condition
// is a volatile flag nobody clears, so it burns no CPU while the certifier waits.
// In the wild: a deadlock on a lock or a thread pool, a spin on a flag that is never set, or an
// iteration that never converges.
// A certifier must kill it after its per-call limit and report a failed check: timed out.
#include <time.h>

#include "common.hpp"

namespace {
template <typename T>
int kernel(const T* x, T* y, size_t rows, size_t n) {
  volatile bool forever = true;
  while (forever) {
    const timespec nap{0, 100 * 1000 * 1000};  // 100 ms; a signal that interrupts it just loops
    nanosleep(&nap, nullptr);
  }
  return hostile::softmax(x, y, rows, n);
}
}  // namespace

HOSTILE_PLUGIN("hang")
HOSTILE_EXPORT_SOFTMAX(kernel)

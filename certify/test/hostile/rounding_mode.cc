// hostile-rounding_mode: every softmax call (f32 and f64) computes its output correctly (in the
// caller's rounding mode), then calls fesetround(FE_UPWARD) and returns with it still set.
// In the wild: interval or directed-rounding code that forgets to restore the mode; an error path
// that skips the restore.
// A certifier must compare the floating-point environment after the call with the one before and
// report a failed check: left the rounding mode changed (and restore it before going on).
#include <cfenv>

#include "common.hpp"

namespace {
template <typename T>
int kernel(const T* x, T* y, size_t rows, size_t n) {
  const int status = hostile::softmax(x, y, rows, n);
  std::fesetround(FE_UPWARD);  // and never set back
  return status;
}
}  // namespace

HOSTILE_PLUGIN("rounding_mode")
HOSTILE_EXPORT_SOFTMAX(kernel)

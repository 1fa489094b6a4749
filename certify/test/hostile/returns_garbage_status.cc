// hostile-returns_garbage_status: every softmax call (f32 and f64) returns 12345, a status that
// abi.h does not document, and writes nothing.
// In the wild: a kernel that returns an internal error code (an errno, a CUDA status) as is.
// abi.h treats any nonzero status as a decline, so a certifier must not crash or read the
// (unwritten) output: it reports every call declined with the undocumented status 12345 named, and
// since nothing is certified, the run does not pass (see README.md).
#include "common.hpp"

namespace {
constexpr int kGarbage = 12345;

template <typename T>
int kernel(const T*, T*, size_t, size_t) {
  return kGarbage;
}
}  // namespace

HOSTILE_PLUGIN("returns_garbage_status")
HOSTILE_EXPORT_SOFTMAX(kernel)

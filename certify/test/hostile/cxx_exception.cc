// hostile-cxx_exception: every softmax call (f32 and f64) throws std::runtime_error out of the
// extern "C" kernel. The exported functions are not noexcept (HOSTILE_EXPORT_SOFTMAX) and the file
// is built with -fexceptions, so the exception unwinds through the C ABI into the caller.
// In the wild: a C++ library wrapped in a C interface without a catch-all at the boundary.
// A certifier must not let it unwind through its own code (or terminate): it reports a failed
// check: threw a C++ exception across the C ABI.
#include <stdexcept>

#include "common.hpp"

namespace {
template <typename T>
int kernel(const T* x, T* y, size_t rows, size_t n) {
  throw std::runtime_error("hostile-cxx_exception: thrown out of softcert_softmax");
  return hostile::softmax(x, y, rows, n);
}
}  // namespace

HOSTILE_PLUGIN("cxx_exception")
HOSTILE_EXPORT_SOFTMAX(kernel)

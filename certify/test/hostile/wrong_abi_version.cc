// hostile-wrong_abi_version: a correct softmax (f32 and f64), but softcert_abi_version returns
// SOFTCERT_ABI_VERSION + 1, a version this softcert does not speak.
// In the wild: a plugin built against a newer softcert, loaded by an older one.
// A certifier must refuse to load it before calling any kernel: exit status 2, saying "ABI version
// N, expected M" (N = M + 1).
#include "common.hpp"

namespace {
template <typename T>
int kernel(const T* x, T* y, size_t rows, size_t n) {
  return hostile::softmax(x, y, rows, n);
}
}  // namespace

HOSTILE_ABI_VERSION(SOFTCERT_ABI_VERSION + 1)
HOSTILE_NAME("wrong_abi_version")
HOSTILE_EXPORT_SOFTMAX(kernel)

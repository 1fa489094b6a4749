// hostile-no_abi_version: a correct softmax (f32 and f64) and softcert_name, but no
// softcert_abi_version at all, which DESIGN.md §3 requires of every plugin.
// In the wild: a plugin written against a draft of the ABI, or a build whose exports list forgot it.
// A certifier must refuse to load it before calling anything: exit status 2, saying that it does
// not export softcert_abi_version.
#include "common.hpp"

namespace {
template <typename T>
int kernel(const T* x, T* y, size_t rows, size_t n) {
  return hostile::softmax(x, y, rows, n);
}
}  // namespace

HOSTILE_NAME("no_abi_version")  // deliberately no HOSTILE_ABI_VERSION
HOSTILE_EXPORT_SOFTMAX(kernel)

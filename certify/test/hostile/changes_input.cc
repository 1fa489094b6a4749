// hostile-changes_input: every softmax call (f32 and f64) with valid arguments computes its output
// correctly from the unchanged input, then flips the lowest bit of every input element through a
// cast-away const: the output is right, the caller's logits are not what they were (0 becomes the
// smallest subnormal, a finite value its neighbour, +inf a NaN). A call that fails validation
// returns its error code and touches nothing.
// In the wild: an in-place kernel reused out of place, using its source as scratch.
// A certifier must compare the input after the call with a copy (or checksum) taken before and
// report a failed check: changed its input.
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "common.hpp"

namespace {
template <typename T>
int kernel(const T* x, T* y, size_t rows, size_t n) {
  const int status = hostile::softmax(x, y, rows, n);
  if (status == SOFTCERT_OK) {
    using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
    T* const input = const_cast<T*>(x);
    for (size_t i = 0; i < rows * n; ++i) {
      Bits bits;
      std::memcpy(&bits, &input[i], sizeof bits);
      bits ^= 1u;
      std::memcpy(&input[i], &bits, sizeof bits);
    }
  }
  return status;
}
}  // namespace

HOSTILE_PLUGIN("changes_input")
HOSTILE_EXPORT_SOFTMAX(kernel)

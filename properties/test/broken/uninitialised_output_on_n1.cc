// broken-uninitialised_output_on_n1: an early return for the trivial case n == 1 ("the softmax of
// one element is 1, the log_softmax 0") that never writes the output: the caller reads whatever
// was in its buffer.
// In the wild: shape fast paths that return success without storing the obvious result.
// Revealed by: f32 softmax([0x1p+0]) (n = 1) leaves y as it was (e.g. -0x1.81c8p+13 if pre-filled with -12345); exact [0x1p+0].
#include "common.hpp"

namespace {
struct UninitialisedOnN1 : broken::Stable<UninitialisedOnN1> {
  using Base = broken::Stable<UninitialisedOnN1>;
  template <typename T>
  static int softmax(const T* x, T* y, size_t rows, size_t n) {
    if (n == 1 && x && y && rows) return SOFTCERT_OK;  // BUG: y is never written
    return Base::softmax(x, y, rows, n);
  }
  template <typename T>
  static int log_softmax(const T* x, T* y, size_t rows, size_t n) {
    if (n == 1 && x && y && rows) return SOFTCERT_OK;  // BUG: y is never written
    return Base::log_softmax(x, y, rows, n);
  }
};
}  // namespace

BROKEN_PLUGIN("uninitialised_output_on_n1")
BROKEN_EXPORT_SOFTMAX_FAMILY(UninitialisedOnN1)

// broken-padded_store_overflow: the exponentials live in a scratch padded to whole 4-lane vectors and
// the store loop writes whole vectors too, so up to 3 values (+0) land past the end of the row: on
// the last row of a batch, past the end of the output buffer (an out-of-bounds write).
// In the wild: SIMD kernels that store full vectors for the tail instead of a masked/partial store.
// Revealed by: f32 softmax([0x0p+0, 0x0p+0, 0x0p+0]) (n = 3, rows = 1) writes y[3] = 0x0p+0, one element past the output.
#include "common.hpp"

namespace {
struct PaddedStoreOverflow : broken::Stable<PaddedStoreOverflow> {
  template <typename T>
  static void softmax_regular(const broken::Scan<T>& s, const T* z, T* y, size_t n, const uint8_t* keep, T t) {
    constexpr size_t kLanes = 4;
    const size_t padded = (n + kLanes - 1) / kLanes * kLanes;
    std::vector<T> e(padded, T(0));  // padding lanes hold exp(-inf) = 0
    const T sum = exp_sum(z, e.data(), n, s.max, t, keep);
    for (size_t i = 0; i < padded; i += kLanes) {
      for (size_t lane = 0; lane < kLanes; ++lane) y[i + lane] = e[i + lane] / sum;  // BUG: stores past y[n - 1]
    }
  }
};
}  // namespace

BROKEN_PLUGIN("padded_store_overflow")
BROKEN_EXPORT_SOFTMAX_FAMILY(PaddedStoreOverflow)

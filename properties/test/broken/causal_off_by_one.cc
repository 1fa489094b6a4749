// broken-causal_off_by_one: the causal mask lets query i attend keys j <= i + 1, one step into the
// future (the output of row i changes with key i + 1).
// In the wild: a causal mask built with the wrong diagonal offset (triu(..., diagonal=2) instead of 1).
// Revealed by: f32 causal attention, lq = lk = 2, d = dv = 1: q = [[0x1p+0], [0x1p+0]], k = [[0x0p+0], [0x1p+0]], v = [[0x0p+0], [0x1p+0]] → row 0 = 0x1.764d5p-1; exact 0x0p+0.
#include "common.hpp"

namespace {
struct CausalOffByOne : broken::Stable<CausalOffByOne> {
  static size_t attended_keys(size_t i, size_t lk, bool causal) {
    return causal ? std::min(i + 2, lk) : lk;  // BUG: should be i + 1 keys (j <= i)
  }
};
}  // namespace

BROKEN_PLUGIN("causal_off_by_one")
BROKEN_EXPORT_SOFTMAX_FAMILY(CausalOffByOne)
BROKEN_EXPORT_ATTENTION(CausalOffByOne)

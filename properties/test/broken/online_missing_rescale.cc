// broken-online_missing_rescale: one-pass (online) softmax whose running sum is not rescaled by
// exp(m_old - m_new) when the running max grows, so every term added before the max is counted as
// if it were the max. Right when the max comes first, wrong otherwise.
// In the wild: online-softmax / flash-attention kernels that forget the correction factor.
// Revealed by: f32 softmax([0x0p+0, 0x1.4p+3]) (0, 10) = [0x1.7cd79cp-16, 0x1p-1]; exact [0x1.7cd32ep-15, 0x1.fffa0cp-1].
#include "common.hpp"

namespace {
struct OnlineMissingRescale : broken::Stable<OnlineMissingRescale> {
  template <typename T>
  static T exp_sum(const T* z, T* e, size_t n, T m, T t, const uint8_t* keep) {
    T run_max = -broken::kInf<T>, d = 0;
    for (size_t i = 0; i < n; ++i) {  // pass 1: running max and running sum
      if ((keep && !keep[i]) || z[i] == -broken::kInf<T>) continue;
      if (z[i] > run_max) run_max = z[i];  // BUG: d must become d * exp((old - new) / t) here
      d += std::exp(scale(z[i] - run_max, t));
    }
    if (e) {  // pass 2: the exponentials against the final max (= m)
      for (size_t i = 0; i < n; ++i) e[i] = (keep && !keep[i]) ? T(0) : std::exp(scale(z[i] - m, t));
    }
    return d;
  }
};
}  // namespace

BROKEN_PLUGIN("online_missing_rescale")
BROKEN_EXPORT_SOFTMAX_FAMILY(OnlineMissingRescale)

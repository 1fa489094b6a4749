// broken-fmax_drops_nan: the row max is taken with std::fmax and the shifted logit is clamped with
// std::fmin(x, 0) "against overflow"; both return the non-NaN operand, so a NaN logit is treated as
// if it were the max and the row comes out finite.
// In the wild: fmaxf/fminf (or _mm_max_ps/_mm_min_ps, CUDA fmaxf) used as max and clamp in SIMD/GPU kernels.
// Revealed by: f32 softmax([nan, 0x0p+0]) = [0x1p-1, 0x1p-1]; exact [nan, nan].
#include "common.hpp"

namespace {
struct FmaxDropsNan : broken::Stable<FmaxDropsNan> {
  template <typename T>
  static broken::Scan<T> classify(const T* z, size_t n, const uint8_t* keep) {
    broken::Scan<T> s;
    for (size_t i = 0; i < n; ++i) {
      if (keep && !keep[i]) continue;
      if (z[i] == broken::kInf<T>) ++s.pos_inf;
      else if (z[i] != -broken::kInf<T>) s.max = std::fmax(s.max, z[i]), ++s.finite;  // BUG: fmax drops NaN
    }
    s.kind = s.pos_inf > 0 ? broken::Kind::pos_inf : s.finite == 0 ? broken::Kind::all_neg_inf : broken::Kind::regular;
    return s;
  }
  template <typename T>
  static T exp_fn(T x) {
    return std::exp(std::fmin(x, T(0)));  // BUG: fmin(NaN, 0) = 0, so exp(NaN) becomes 1
  }
};
}  // namespace

BROKEN_PLUGIN("fmax_drops_nan")
BROKEN_EXPORT_SOFTMAX_FAMILY(FmaxDropsNan)

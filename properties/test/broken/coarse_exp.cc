// broken-coarse_exp: exp replaced by a "fast exp": range reduction to r in [-ln2/2, ln2/2] and a
// cubic Taylor polynomial, relative error up to ~6e-4 (thousands of f32 ULPs) in every output.
// In the wild: fast-exp approximations (Schraudolph's trick, low-degree polynomials) in inference kernels.
// Revealed by: f32 softmax([0x0p+0, -0x1.62e43p-2]) (0, -ln2/2) = [0x1.2c057ap-1, 0x1.a7f50cp-2]; exact [0x1.2bec34p-1, 0x1.a8279ap-2].
#include "common.hpp"

namespace {
struct CoarseExp : broken::Stable<CoarseExp> {
  template <typename T>
  static T exp_fn(T x) {
    if (x != x) return x;
    if (x < T(-1100)) return 0;  // below every subnormal of f32 and f64
    if (x > T(1100)) return broken::kInf<T>;
    const T k = std::nearbyint(x * T(1.4426950408889634));
    const T r = x - k * T(0.69314718055994531);
    const T p = 1 + r * (1 + r * (T(0.5) + r * T(1.0 / 6)));  // BUG: degree 3, error ≈ r^4/24
    return std::ldexp(p, static_cast<int>(k));
  }
};
}  // namespace

BROKEN_PLUGIN("coarse_exp")
BROKEN_EXPORT_SOFTMAX_FAMILY(CoarseExp)

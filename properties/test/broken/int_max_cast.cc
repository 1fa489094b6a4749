// broken-int_max_cast: the row max is stored in an int32 (saturating conversion, as Rust's `as i32`
// or AArch64 FCVTZS do). Harmless for |max| < 2^31 (a shift within 1 of the max is still stable),
// but for larger logits the shift saturates at ±2147483647 and exp overflows (or underflows) anyway.
// In the wild: code shared with a quantized int8/int32 path keeping the row max in an integer.
// Revealed by: f32 softmax([0x1.93e594p+99, 0x0p+0]) (1e30, 0) = [nan, 0x0p+0]; exact [0x1p+0, 0x0p+0].
#include "common.hpp"

namespace {
struct IntMaxCast : broken::Stable<IntMaxCast> {
  template <typename T>
  static T shift(const broken::Scan<T>& s) {
    std::int32_t m;  // BUG: the max kept as an int32
    if (s.max >= T(2147483648.0)) m = INT32_MAX;
    else if (s.max <= T(-2147483648.0)) m = INT32_MIN;
    else m = static_cast<std::int32_t>(s.max);
    return static_cast<T>(m);
  }
};
}  // namespace

BROKEN_PLUGIN("int_max_cast")
BROKEN_EXPORT_SOFTMAX_FAMILY(IntMaxCast)

// broken-onehot_shortcut: a fast path returns the one-hot of the argmax when the max leads the
// runner-up by more than -log(epsilon) (15.9 in f32, 36.0 in f64), reasoning that exp(-gap) is
// "negligible next to 1". It is negligible in the sum, not as an output: those probabilities are
// normal numbers that must be right to a few ULPs, and come out 0.
// In the wild: "hard"/early-exit softmax paths that confuse absolute and relative error.
// Revealed by: f32 softmax([0x0p+0, -0x1p+4]) (0, -16) = [0x1p+0, 0x0p+0]; exact [0x1.fffffcp-1, 0x1.e355b8p-24].
#include "common.hpp"

namespace {
struct OnehotShortcut : broken::Stable<OnehotShortcut> {
  using Base = broken::Stable<OnehotShortcut>;
  template <typename T>
  static void softmax_regular(const broken::Scan<T>& s, const T* z, T* y, size_t n, const uint8_t* keep, T t) {
    T second = -broken::kInf<T>;
    for (size_t i = 0; i < n; ++i) {
      if (i != s.argmax && (!keep || keep[i])) second = std::max(second, z[i]);
    }
    if ((s.max - second) / t > -std::log(std::numeric_limits<T>::epsilon())) {  // BUG: not negligible
      for (size_t i = 0; i < n; ++i) y[i] = i == s.argmax ? T(1) : T(0);
      return;
    }
    Base::softmax_regular(s, z, y, n, keep, t);
  }
};
}  // namespace

BROKEN_PLUGIN("onehot_shortcut")
BROKEN_EXPORT_SOFTMAX_FAMILY(OnehotShortcut)

// `online`: one pass over the row keeps a running max m and the sum d of exp(z_j - m) rescaled
// whenever m grows (Milakov & Gimelshein, "Online normalizer calculation for softmax", 2018);
// softmax then needs one more pass to write exp(z_i - m) / d. softmax, log_softmax and logsumexp
// only. Special values are counted in the same pass: a -inf entry never becomes the running max
// (no -inf - -inf), a +inf entry never enters the sum (no inf - inf).
#include <cmath>

#include "algorithms.hpp"
#include "kernels.hpp"

namespace softcert::lib {
namespace {

struct Online {
  static constexpr bool kScansItself = true;

  template <typename T>
  struct Pass {
    RowScan<T> scan;
    T sum = 0;  // Σ exp(z_j - max) over the finite entries
  };

  template <typename T>
  static Pass<T> pass(const T* z, std::size_t n) {
    Pass<T> p;
    bool nan = false;
    for (std::size_t i = 0; i < n; ++i) {
      const T x = z[i];
      if (std::isnan(x)) {
        nan = true;
      } else if (x == kInf<T>) {
        ++p.scan.pos_inf;
      } else if (x != -kInf<T>) {
        if (p.scan.finite == 0) {
          p.scan.max = x, p.scan.argmax = i, p.sum = 1;
        } else if (x > p.scan.max) {
          p.sum = p.sum * std::exp(p.scan.max - x) + 1;
          p.scan.max = x, p.scan.argmax = i;
        } else {
          p.sum += std::exp(x - p.scan.max);
        }
        ++p.scan.finite;
      }
    }
    if (nan) p.scan.kind = RowCase::nan;
    else if (p.scan.pos_inf > 0) p.scan.kind = RowCase::pos_inf;
    else if (p.scan.finite == 0) p.scan.kind = RowCase::all_neg_inf;
    return p;
  }

  template <typename T>
  static void softmax_row(const T* z, T* y, std::size_t n) {
    const Pass<T> p = pass(z, n);
    if (p.scan.kind != RowCase::regular) return softmax_special(p.scan, z, y, n);
    for (std::size_t i = 0; i < n; ++i) y[i] = std::exp(z[i] - p.scan.max) / p.sum;
  }

  template <typename T>
  static void log_softmax_row(const T* z, T* y, std::size_t n) {
    const Pass<T> p = pass(z, n);
    if (p.scan.kind != RowCase::regular) return log_softmax_special(p.scan, z, y, n);
    const T l = std::log(p.sum);
    for (std::size_t i = 0; i < n; ++i) y[i] = (z[i] - p.scan.max) - l;
  }

  template <typename T>
  static T logsumexp_row(const T* z, std::size_t n) {
    const Pass<T> p = pass(z, n);
    if (p.scan.kind != RowCase::regular) return logsumexp_special(p.scan);
    return p.scan.max + std::log(p.sum);
  }
};

}  // namespace

Implementation make_online() {
  Implementation impl{"online", kernels_of<Online, float>(), kernels_of<Online, double>()};
  // f16/bf16 in float, as frameworks compute half precision.
  set_reduced_kernels<Online, float>(impl);
  return impl;
}

}  // namespace softcert::lib

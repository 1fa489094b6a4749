// broken-sigmoid_naive: sigmoid as exp(x) / (1 + exp(x)) for every x: for x above ~88.7 (f32) /
// ~709.8 (f64) exp overflows and inf / inf = NaN, where the answer is 1.
// In the wild: logistic-regression code using the form that is only safe for x < 0.
// Revealed by: f32 sigmoid(0x1.9p+6) (100) = nan; exact 0x1p+0.
#include "common.hpp"

namespace {
struct SigmoidNaive : broken::Stable<SigmoidNaive> {
  template <typename T>
  static T sigmoid_one(T x) {
    const T e = std::exp(x);
    return e / (1 + e);  // BUG: needs 1 / (1 + exp(-x)) for x >= 0
  }
};
}  // namespace

BROKEN_PLUGIN("sigmoid_naive")
BROKEN_EXPORT_SOFTMAX_FAMILY(SigmoidNaive)
BROKEN_EXPORT_SIGMOID(SigmoidNaive)

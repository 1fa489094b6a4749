// broken-half_no_max_shift: f16/bf16 softmax computed in the storage format itself, every
// intermediate rounded to it, and without subtracting the row max: exp(z) overflows the format
// (above ≈ 11.09 in binary16, ≈ 88.7 in bfloat16), and inf / inf gives NaN for finite logits.
// In the wild: half-precision kernels that keep intermediates in fp16 ("it is only a softmax")
// and drop the max subtraction because fp32 logits never overflowed in testing.
// Revealed by: f16 softmax([0x1.8p+3, 0x0p+0]) (12, 0) = [NaN, 0]; exact [0x1p+0, 0x1.9cp-18]
// (1 - 6.1e-6 and 6.1e-6 rounded to binary16).
#include "softcert/float_format.hpp"

#include "common.hpp"

namespace {

using softcert::FloatFormat;

// The storage format's arithmetic: each result rounded to the format.
float in_format(double x, const FloatFormat& f) { return softcert::round_to(x, f); }

int softmax_in_format(const uint16_t* x, uint16_t* y, size_t rows, size_t n, const FloatFormat& f) {
  if (x == nullptr || y == nullptr) return SOFTCERT_ERR_NULL;
  if (rows == 0 || n == 0) return SOFTCERT_ERR_EMPTY;
  if (n > std::numeric_limits<size_t>::max() / rows) return SOFTCERT_ERR_SIZE;
  std::vector<float> e(n);
  for (size_t r = 0; r < rows; ++r) {
    float sum = 0;
    for (size_t i = 0; i < n; ++i) {
      e[i] = in_format(std::exp(softcert::decode(x[r * n + i], f)), f);  // BUG: no max subtracted
      sum = in_format(double(sum) + e[i], f);
    }
    for (size_t i = 0; i < n; ++i) y[r * n + i] = softcert::encode(double(e[i]) / sum, f);
  }
  return SOFTCERT_OK;
}

}  // namespace

BROKEN_PLUGIN("half_no_max_shift")
BROKEN_API int softcert_softmax_f16(const uint16_t* x, uint16_t* y, size_t rows, size_t n) {
  return softmax_in_format(x, y, rows, n, softcert::kBinary16);
}
BROKEN_API int softcert_softmax_bf16(const uint16_t* x, uint16_t* y, size_t rows, size_t n) {
  return softmax_in_format(x, y, rows, n, softcert::kBFloat16);
}

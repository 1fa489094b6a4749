// broken-half_log_of_softmax: f16/bf16 log_softmax computed as log of the softmax already rounded
// to the format: a probability below the format's smallest subnormal (e^-16.6 in binary16) is 0,
// and its log is -inf where the exact log-probability is an ordinary number such as -20.
// In the wild: mixed-precision training code taking log(softmax(x).half()) for a loss; binary16's
// tiny range makes the underflow common, not exotic.
// Revealed by: f16 log_softmax([0x0p+0, -0x1.4p+4]) (0, -20) = [0, -inf]; exact [-0 (-2.1e-9 rounded), -0x1.4p+4].
#include "softcert/float_format.hpp"

#include "common.hpp"

namespace {

using softcert::FloatFormat;

struct Correct : broken::Stable<Correct> {};

int log_of_softmax(const uint16_t* x, uint16_t* y, size_t rows, size_t n, const FloatFormat& f) {
  if (x == nullptr || y == nullptr) return SOFTCERT_ERR_NULL;
  if (rows == 0 || n == 0) return SOFTCERT_ERR_EMPTY;
  if (n > std::numeric_limits<size_t>::max() / rows) return SOFTCERT_ERR_SIZE;
  std::vector<float> z(n), p(n);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t i = 0; i < n; ++i) z[i] = softcert::decode(x[r * n + i], f);
    Correct::softmax_row(z.data(), p.data(), n, nullptr, 1.0f);  // correct, in float
    for (size_t i = 0; i < n; ++i) {
      const float stored = softcert::round_to(p[i], f);  // the probability as the format holds it
      y[r * n + i] = softcert::encode(std::log(stored), f);  // BUG: log of a rounded (maybe 0) value
    }
  }
  return SOFTCERT_OK;
}

}  // namespace

BROKEN_PLUGIN("half_log_of_softmax")
BROKEN_API int softcert_log_softmax_f16(const uint16_t* x, uint16_t* y, size_t rows, size_t n) {
  return log_of_softmax(x, y, rows, n, softcert::kBinary16);
}
BROKEN_API int softcert_log_softmax_bf16(const uint16_t* x, uint16_t* y, size_t rows, size_t n) {
  return log_of_softmax(x, y, rows, n, softcert::kBFloat16);
}

// libtorch behind the plugin ABI (DESIGN.md §3): every kernel is libtorch's own operator, called
// the way a libtorch user writes it, on tensors that wrap the caller's arrays without copying.
// One translation unit: libtorch headers are heavy.
//
// Contract kept here, not by libtorch: inputs validated in abi.h's order before anything runs;
// the output written only when libtorch succeeded (results are computed into libtorch's own
// tensor, then copied); no exception crosses the C ABI (any c10::Error or other exception is a
// decline, SOFTCERT_ERR_UNSUPPORTED); one intra-op thread, so results are deterministic.
#include <torch/torch.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <mutex>
#include <string>

#include "softcert/abi.h"

#define SOFTCERT_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

// size × sizeof(element) addressable without overflow (abi.h: SOFTCERT_ERR_SIZE).
bool fits(std::size_t a, std::size_t b, std::size_t element) {
  return b == 0 || a <= std::numeric_limits<std::size_t>::max() / b / element;
}

// libtorch indexes with int64_t: anything larger is a shape it cannot take.
bool torch_sized(std::size_t a, std::size_t b) {
  const auto max = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  return a <= max && b <= max && (b == 0 || a <= max / b);
}

int check_rows(const void* in, const void* out, std::size_t rows, std::size_t n, std::size_t element) {
  if (in == nullptr || out == nullptr) return SOFTCERT_ERR_NULL;
  if (rows == 0 || n == 0) return SOFTCERT_ERR_EMPTY;
  if (!fits(rows, n, element)) return SOFTCERT_ERR_SIZE;
  if (!torch_sized(rows, n)) return SOFTCERT_ERR_UNSUPPORTED;
  return SOFTCERT_OK;
}

template <typename T>
constexpr torch::Dtype dtype_of() {
  return sizeof(T) == sizeof(float) ? torch::kFloat32 : torch::kFloat64;
}

// A tensor over the caller's array, without a copy. const_cast only because from_blob takes
// void*: no kernel below writes into an input (no in-place operation on these tensors).
torch::Tensor wrap(const void* data, std::size_t rows, std::size_t n, torch::Dtype dtype) {
  return torch::from_blob(const_cast<void*>(data), {static_cast<std::int64_t>(rows), static_cast<std::int64_t>(n)},
                          torch::TensorOptions().dtype(dtype));
}

// Copies libtorch's result into the caller's output, checking it has the expected shape and type
// (a mismatch would be a misuse of libtorch here, not a result: decline).
int deliver(const torch::Tensor& result, void* out, std::size_t count, torch::Dtype dtype) {
  if (result.scalar_type() != dtype || static_cast<std::size_t>(result.numel()) != count) {
    return SOFTCERT_ERR_UNSUPPORTED;
  }
  const torch::Tensor dense = result.contiguous();
  std::memcpy(out, dense.data_ptr(), count * dense.element_size());
  return SOFTCERT_OK;
}

// Runs a libtorch call with one intra-op thread. Any exception — c10::Error for what libtorch
// refuses (a dtype it lacks, a shape it rejects), bad_alloc, anything else — becomes a decline.
template <typename F>
int guarded(F&& body) {
  try {
    static std::once_flag once;
    std::call_once(once, [] { torch::set_num_threads(1); });
    return body();
  } catch (...) {
    return SOFTCERT_ERR_UNSUPPORTED;
  }
}

template <typename T>
int softmax(const T* x, T* y, std::size_t rows, std::size_t n) {
  if (int e = check_rows(x, y, rows, n, sizeof(T))) return e;
  return guarded([&] {
    torch::NoGradGuard no_grad;
    return deliver(torch::softmax(wrap(x, rows, n, dtype_of<T>()), -1), y, rows * n, dtype_of<T>());
  });
}

template <typename T>
int log_softmax(const T* x, T* y, std::size_t rows, std::size_t n) {
  if (int e = check_rows(x, y, rows, n, sizeof(T))) return e;
  return guarded([&] {
    torch::NoGradGuard no_grad;
    return deliver(torch::log_softmax(wrap(x, rows, n, dtype_of<T>()), -1), y, rows * n, dtype_of<T>());
  });
}

template <typename T>
int logsumexp(const T* x, T* out, std::size_t rows, std::size_t n) {
  if (int e = check_rows(x, out, rows, n, sizeof(T))) return e;
  return guarded([&] {
    torch::NoGradGuard no_grad;
    return deliver(torch::logsumexp(wrap(x, rows, n, dtype_of<T>()), {-1}), out, rows, dtype_of<T>());
  });
}

// As users write a temperature: softmax(x / t).
template <typename T>
int softmax_temperature(const T* x, T* y, std::size_t rows, std::size_t n, T t) {
  if (int e = check_rows(x, y, rows, n, sizeof(T))) return e;
  if (!(t > 0) || !std::isfinite(t)) return SOFTCERT_ERR_TEMPERATURE;
  return guarded([&] {
    torch::NoGradGuard no_grad;
    const torch::Tensor z = wrap(x, rows, n, dtype_of<T>());
    return deliver(torch::softmax(z / t, -1), y, rows * n, dtype_of<T>());
  });
}

template <typename T>
int sigmoid(const T* x, T* y, std::size_t count) {
  if (int e = check_rows(x, y, 1, count, sizeof(T))) return e;
  return guarded([&] {
    torch::NoGradGuard no_grad;
    return deliver(torch::sigmoid(wrap(x, 1, count, dtype_of<T>())), y, count, dtype_of<T>());
  });
}

int check_labelled(const void* z, const int64_t* labels, const void* out, std::size_t rows, std::size_t n,
                   std::size_t element) {
  if (labels == nullptr) return SOFTCERT_ERR_NULL;
  if (int e = check_rows(z, out, rows, n, element)) return e;
  for (std::size_t r = 0; r < rows; ++r) {
    if (labels[r] < 0 || static_cast<std::uint64_t>(labels[r]) >= n) return SOFTCERT_ERR_LABEL;
  }
  return SOFTCERT_OK;
}

torch::Tensor wrap_labels(const int64_t* labels, std::size_t rows) {
  return torch::from_blob(const_cast<int64_t*>(labels), {static_cast<std::int64_t>(rows)},
                          torch::TensorOptions().dtype(torch::kInt64));
}

namespace F = torch::nn::functional;

template <typename T>
int cross_entropy(const T* z, const int64_t* labels, T* loss, std::size_t rows, std::size_t n) {
  if (int e = check_labelled(z, labels, loss, rows, n, sizeof(T))) return e;
  return guarded([&] {
    torch::NoGradGuard no_grad;
    const torch::Tensor l = F::cross_entropy(wrap(z, rows, n, dtype_of<T>()), wrap_labels(labels, rows),
                                             F::CrossEntropyFuncOptions().reduction(torch::kNone));
    return deliver(l, loss, rows, dtype_of<T>());
  });
}

// The gradient libtorch's autograd gives for each row's loss (reduction none, upstream 1 per row).
template <typename T>
int cross_entropy_grad(const T* z, const int64_t* labels, T* grad, std::size_t rows, std::size_t n) {
  if (int e = check_labelled(z, labels, grad, rows, n, sizeof(T))) return e;
  return guarded([&] {
    torch::AutoGradMode grad_on(true);
    // A leaf over the caller's logits: autograd reads it and never writes it.
    const torch::Tensor logits = wrap(z, rows, n, dtype_of<T>()).requires_grad_(true);
    const torch::Tensor l = F::cross_entropy(logits, wrap_labels(labels, rows),
                                             F::CrossEntropyFuncOptions().reduction(torch::kNone));
    const auto g = torch::autograd::grad({l}, {logits}, {torch::ones_like(l)});
    return deliver(g.at(0), grad, rows * n, dtype_of<T>());
  });
}

// libtorch's own softmax backward kernel, the one autograd runs for softmax: it takes the forward
// output y, as the ABI does (autograd through softmax would need x instead).
template <typename T>
int softmax_backward(const T* y, const T* dy, T* dx, std::size_t rows, std::size_t n) {
  if (dy == nullptr) return SOFTCERT_ERR_NULL;
  if (int e = check_rows(y, dx, rows, n, sizeof(T))) return e;
  return guarded([&] {
    torch::NoGradGuard no_grad;
    const torch::Tensor r = torch::_softmax_backward_data(wrap(dy, rows, n, dtype_of<T>()), wrap(y, rows, n, dtype_of<T>()),
                                                          -1, dtype_of<T>());
    return deliver(r, dx, rows * n, dtype_of<T>());
  });
}

// As users write a mask: scores.masked_fill(~keep, -inf).softmax(-1).
template <typename T>
int masked_softmax(const T* x, const uint8_t* keep, T* y, std::size_t rows, std::size_t n) {
  if (keep == nullptr) return SOFTCERT_ERR_NULL;
  if (int e = check_rows(x, y, rows, n, sizeof(T))) return e;
  return guarded([&] {
    torch::NoGradGuard no_grad;
    // keep is bytes, 1 = attend; any nonzero byte counts as kept, as the ABI's lib does.
    const torch::Tensor masked_out = wrap(keep, rows, n, torch::kUInt8).eq(0);
    const torch::Tensor scores = wrap(x, rows, n, dtype_of<T>()).masked_fill(masked_out, -INFINITY);
    return deliver(scores.softmax(-1), y, rows * n, dtype_of<T>());
  });
}

// libtorch 1.13's scaled dot product attention, at::_scaled_dot_product_attention (Python:
// torch.nn.functional._scaled_dot_product_attention, private in 1.13; public from 2.0). is_causal
// builds ones(lq, lk).tril(): j > i masked, top-left aligned as the ABI's causal.
template <typename T>
int attention(const T* q, const T* k, const T* v, T* out, std::size_t lq, std::size_t lk, std::size_t d,
              std::size_t dv, int causal) {
  if (!q || !k || !v || !out) return SOFTCERT_ERR_NULL;
  if (lq == 0 || lk == 0 || d == 0 || dv == 0) return SOFTCERT_ERR_EMPTY;
  if (!fits(lq, d, sizeof(T)) || !fits(lk, d, sizeof(T)) || !fits(lk, dv, sizeof(T)) || !fits(lq, dv, sizeof(T))) {
    return SOFTCERT_ERR_SIZE;
  }
  if (!torch_sized(lq, d) || !torch_sized(lk, d) || !torch_sized(lk, dv) || !torch_sized(lq, dv)) {
    return SOFTCERT_ERR_UNSUPPORTED;
  }
  return guarded([&] {
    torch::NoGradGuard no_grad;
    // One batch, as the 1.13 kernel expects (batch, length, features).
    const torch::Tensor tq = wrap(q, lq, d, dtype_of<T>()).unsqueeze(0);
    const torch::Tensor tk = wrap(k, lk, d, dtype_of<T>()).unsqueeze(0);
    const torch::Tensor tv = wrap(v, lk, dv, dtype_of<T>()).unsqueeze(0);
    const auto result = at::_scaled_dot_product_attention(tq, tk, tv, c10::nullopt, 0.0, false, causal != 0);
    return deliver(std::get<0>(result), out, lq * dv, dtype_of<T>());
  });
}

// Reduced precision: the ABI's bit patterns are libtorch's own kHalf / kBFloat16 storage.
int reduced(bool log, const uint16_t* x, uint16_t* y, std::size_t rows, std::size_t n, torch::Dtype dtype) {
  if (int e = check_rows(x, y, rows, n, sizeof(uint16_t))) return e;
  return guarded([&] {
    torch::NoGradGuard no_grad;
    const torch::Tensor z = wrap(x, rows, n, dtype);
    return deliver(log ? torch::log_softmax(z, -1) : torch::softmax(z, -1), y, rows * n, dtype);
  });
}

}  // namespace

SOFTCERT_EXPORT int softcert_abi_version(void) { return SOFTCERT_ABI_VERSION; }

// TORCH_VERSION is the headers' (libtorch has no C++ runtime version query); the Debian package
// version is recorded at configure time because Debian's 1.13.1 headers still say 1.13.0.
SOFTCERT_EXPORT const char* softcert_name(void) {
  try {
    static const std::string name = std::string("libtorch ") + TORCH_VERSION +
#ifdef SOFTCERT_TORCH_PACKAGE_VERSION
                                    " (Debian libtorch-dev " SOFTCERT_TORCH_PACKAGE_VERSION ")" +
#endif
                                    ", CPU, 1 thread";
    return name.c_str();
  } catch (...) {
    return "libtorch " TORCH_VERSION;  // nothing crosses the C ABI, not even bad_alloc
  }
}

SOFTCERT_EXPORT int softcert_softmax_f32(const float* x, float* y, size_t rows, size_t n) { return softmax(x, y, rows, n); }
SOFTCERT_EXPORT int softcert_softmax_f64(const double* x, double* y, size_t rows, size_t n) { return softmax(x, y, rows, n); }
SOFTCERT_EXPORT int softcert_log_softmax_f32(const float* x, float* y, size_t rows, size_t n) { return log_softmax(x, y, rows, n); }
SOFTCERT_EXPORT int softcert_log_softmax_f64(const double* x, double* y, size_t rows, size_t n) { return log_softmax(x, y, rows, n); }
SOFTCERT_EXPORT int softcert_logsumexp_f32(const float* x, float* out, size_t rows, size_t n) { return logsumexp(x, out, rows, n); }
SOFTCERT_EXPORT int softcert_logsumexp_f64(const double* x, double* out, size_t rows, size_t n) { return logsumexp(x, out, rows, n); }
SOFTCERT_EXPORT int softcert_softmax_temperature_f32(const float* x, float* y, size_t rows, size_t n, float t) {
  return softmax_temperature(x, y, rows, n, t);
}
SOFTCERT_EXPORT int softcert_softmax_temperature_f64(const double* x, double* y, size_t rows, size_t n, double t) {
  return softmax_temperature(x, y, rows, n, t);
}
SOFTCERT_EXPORT int softcert_sigmoid_f32(const float* x, float* y, size_t count) { return sigmoid(x, y, count); }
SOFTCERT_EXPORT int softcert_sigmoid_f64(const double* x, double* y, size_t count) { return sigmoid(x, y, count); }
SOFTCERT_EXPORT int softcert_cross_entropy_f32(const float* z, const int64_t* labels, float* loss, size_t rows, size_t n) {
  return cross_entropy(z, labels, loss, rows, n);
}
SOFTCERT_EXPORT int softcert_cross_entropy_f64(const double* z, const int64_t* labels, double* loss, size_t rows, size_t n) {
  return cross_entropy(z, labels, loss, rows, n);
}
SOFTCERT_EXPORT int softcert_cross_entropy_grad_f32(const float* z, const int64_t* labels, float* grad, size_t rows, size_t n) {
  return cross_entropy_grad(z, labels, grad, rows, n);
}
SOFTCERT_EXPORT int softcert_cross_entropy_grad_f64(const double* z, const int64_t* labels, double* grad, size_t rows,
                                                    size_t n) {
  return cross_entropy_grad(z, labels, grad, rows, n);
}
SOFTCERT_EXPORT int softcert_softmax_backward_f32(const float* y, const float* dy, float* dx, size_t rows, size_t n) {
  return softmax_backward(y, dy, dx, rows, n);
}
SOFTCERT_EXPORT int softcert_softmax_backward_f64(const double* y, const double* dy, double* dx, size_t rows, size_t n) {
  return softmax_backward(y, dy, dx, rows, n);
}
SOFTCERT_EXPORT int softcert_masked_softmax_f32(const float* x, const uint8_t* keep, float* y, size_t rows, size_t n) {
  return masked_softmax(x, keep, y, rows, n);
}
SOFTCERT_EXPORT int softcert_masked_softmax_f64(const double* x, const uint8_t* keep, double* y, size_t rows, size_t n) {
  return masked_softmax(x, keep, y, rows, n);
}
SOFTCERT_EXPORT int softcert_attention_f32(const float* q, const float* k, const float* v, float* out, size_t lq, size_t lk,
                                           size_t d, size_t dv, int causal) {
  return attention(q, k, v, out, lq, lk, d, dv, causal);
}
SOFTCERT_EXPORT int softcert_attention_f64(const double* q, const double* k, const double* v, double* out, size_t lq,
                                           size_t lk, size_t d, size_t dv, int causal) {
  return attention(q, k, v, out, lq, lk, d, dv, causal);
}
SOFTCERT_EXPORT int softcert_softmax_bf16(const uint16_t* x, uint16_t* y, size_t rows, size_t n) {
  return reduced(false, x, y, rows, n, torch::kBFloat16);
}
SOFTCERT_EXPORT int softcert_log_softmax_bf16(const uint16_t* x, uint16_t* y, size_t rows, size_t n) {
  return reduced(true, x, y, rows, n, torch::kBFloat16);
}
// No binary16 kernels: libtorch 1.13's CPU softmax and log_softmax throw c10::Error for kHalf
// tensors (exported, every call declined), so the plugin does not claim them.

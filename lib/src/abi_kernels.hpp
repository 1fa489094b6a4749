// The float32/float64 kernels of the plugin ABI (abi.h) as X-macro lists, so that the kernel
// table (kernels.hpp), the plugins (plugin/plugin.cc) and the plugin test each expand one list
// instead of spelling out twenty kernels. Each entry is
//   X(name, dtype, (parameters), (arguments))
// where name is the TypedKernels member and the ABI symbol is softcert_<name>_<dtype>; T is the
// element type the list is expanded for and dtype its suffix (f32 or f64, also the
// Implementation member).
#pragma once

// What every algorithm provides, `online` included.
#define SOFTCERT_ABI_SOFTMAX_FAMILY(X, T, dtype)                                            \
  X(softmax, dtype, (const T* x, T* y, size_t rows, size_t n), (x, y, rows, n))            \
  X(log_softmax, dtype, (const T* x, T* y, size_t rows, size_t n), (x, y, rows, n))        \
  X(logsumexp, dtype, (const T* x, T* out, size_t rows, size_t n), (x, out, rows, n))

// The rest of DESIGN.md §2.
#define SOFTCERT_ABI_OTHER_KERNELS(X, T, dtype)                                                          \
  X(softmax_temperature, dtype, (const T* x, T* y, size_t rows, size_t n, T t), (x, y, rows, n, t))     \
  X(sigmoid, dtype, (const T* x, T* y, size_t count), (x, y, count))                                    \
  X(cross_entropy, dtype, (const T* z, const int64_t* labels, T* loss, size_t rows, size_t n),          \
    (z, labels, loss, rows, n))                                                                         \
  X(cross_entropy_grad, dtype, (const T* z, const int64_t* labels, T* grad, size_t rows, size_t n),     \
    (z, labels, grad, rows, n))                                                                         \
  X(softmax_backward, dtype, (const T* y, const T* dy, T* dx, size_t rows, size_t n), (y, dy, dx, rows, n)) \
  X(masked_softmax, dtype, (const T* x, const uint8_t* keep, T* y, size_t rows, size_t n),              \
    (x, keep, y, rows, n))                                                                              \
  X(attention, dtype,                                                                                   \
    (const T* q, const T* k, const T* v, T* out, size_t lq, size_t lk, size_t d, size_t dv, int causal), \
    (q, k, v, out, lq, lk, d, dv, causal))

// The reduced-precision kernels: binary16 / bfloat16 bit patterns (dtype f16 or bf16).
#define SOFTCERT_ABI_REDUCED_KERNELS(X, dtype)                                                       \
  X(softmax, dtype, (const uint16_t* x, uint16_t* y, size_t rows, size_t n), (x, y, rows, n))     \
  X(log_softmax, dtype, (const uint16_t* x, uint16_t* y, size_t rows, size_t n), (x, y, rows, n))

// Every f32/f64 kernel of the ABI.
#define SOFTCERT_ABI_KERNELS(X, T, dtype) \
  SOFTCERT_ABI_SOFTMAX_FAMILY(X, T, dtype) \
  SOFTCERT_ABI_OTHER_KERNELS(X, T, dtype)

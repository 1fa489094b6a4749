// The batch layer: turns an algorithm's per-row functions into kernels with the plugin ABI's
// signatures. Input validation (abi.h's return codes, checked before anything is written) and the
// special-value rows of DESIGN.md §2 (special.hpp) live here once, for every algorithm.
//
// An algorithm A is a struct with static member templates, each optional:
//   softmax(scan, z, y, n, keep, t)   regular row: y = softmax((z - max)/t) over keep (null: all)
//   log_softmax(scan, z, y, n)        regular row
//   logsumexp(scan, z, n) -> T        regular row
//   cross_entropy(scan, z, label, n) -> T;   cross_entropy_grad(scan, z, label, g, n)
//   sigmoid(x) -> T;   softmax_backward(y, dy, dx, n);   attention(q, k, v, out, lq, lk, d, dv, causal)
// An algorithm that sets kScansItself (online: one pass over the row) gets the raw row instead,
// softmax_row(z, y, n), log_softmax_row(z, y, n), logsumexp_row(z, n), and applies special.hpp
// itself.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <new>
#include <vector>

#include "abi_kernels.hpp"
#include "softcert/abi.h"
#include "softcert/implementation.hpp"
#include "special.hpp"

namespace softcert::lib {

// rows × n elements of T addressable without overflow.
template <typename T>
bool fits(std::size_t a, std::size_t b) {
  return b == 0 || a <= std::numeric_limits<std::size_t>::max() / b / sizeof(T);
}

template <typename T>
int check_rows(const void* in, const void* out, std::size_t rows, std::size_t n) {
  if (in == nullptr || out == nullptr) return SOFTCERT_ERR_NULL;
  if (rows == 0 || n == 0) return SOFTCERT_ERR_EMPTY;
  if (!fits<T>(rows, n)) return SOFTCERT_ERR_SIZE;
  return SOFTCERT_OK;
}

inline int check_labels(const int64_t* labels, std::size_t rows, std::size_t n) {
  for (std::size_t r = 0; r < rows; ++r) {
    if (labels[r] < 0 || static_cast<std::uint64_t>(labels[r]) >= n) return SOFTCERT_ERR_LABEL;
  }
  return SOFTCERT_OK;
}

// The cross-entropy kernels' validation, in abi.h's order: pointers, shape, size, labels.
template <typename T>
int check_labelled_rows(const void* in, const int64_t* labels, const void* out, std::size_t rows, std::size_t n) {
  if (labels == nullptr) return SOFTCERT_ERR_NULL;
  if (int e = check_rows<T>(in, out, rows, n)) return e;
  return check_labels(labels, rows, n);
}

template <typename A>
concept ScansItself = A::kScansItself;

template <typename A, typename T>
struct Batch {
  static int softmax(const T* x, T* y, std::size_t rows, std::size_t n) {
    if (int e = check_rows<T>(x, y, rows, n)) return e;
    for (std::size_t r = 0; r < rows; ++r) softmax_one(x + r * n, y + r * n, n, nullptr, T(1));
    return SOFTCERT_OK;
  }

  static int softmax_temperature(const T* x, T* y, std::size_t rows, std::size_t n, T t) {
    if (int e = check_rows<T>(x, y, rows, n)) return e;
    if (!(t > 0) || !std::isfinite(t)) return SOFTCERT_ERR_TEMPERATURE;
    for (std::size_t r = 0; r < rows; ++r) softmax_one(x + r * n, y + r * n, n, nullptr, t);
    return SOFTCERT_OK;
  }

  static int masked_softmax(const T* x, const uint8_t* keep, T* y, std::size_t rows, std::size_t n) {
    if (keep == nullptr) return SOFTCERT_ERR_NULL;
    if (int e = check_rows<T>(x, y, rows, n)) return e;
    for (std::size_t r = 0; r < rows; ++r) softmax_one(x + r * n, y + r * n, n, keep + r * n, T(1));
    return SOFTCERT_OK;
  }

  static int log_softmax(const T* x, T* y, std::size_t rows, std::size_t n) {
    if (int e = check_rows<T>(x, y, rows, n)) return e;
    for (std::size_t r = 0; r < rows; ++r) {
      const T* z = x + r * n;
      T* out = y + r * n;
      if constexpr (ScansItself<A>) {
        A::log_softmax_row(z, out, n);
      } else {
        const RowScan<T> s = scan_row(z, n);
        if (s.kind == RowCase::regular) A::log_softmax(s, z, out, n);
        else log_softmax_special(s, z, out, n);
      }
    }
    return SOFTCERT_OK;
  }

  static int logsumexp(const T* x, T* out, std::size_t rows, std::size_t n) {
    if (int e = check_rows<T>(x, out, rows, n)) return e;
    for (std::size_t r = 0; r < rows; ++r) {
      const T* z = x + r * n;
      if constexpr (ScansItself<A>) {
        out[r] = A::logsumexp_row(z, n);
      } else {
        const RowScan<T> s = scan_row(z, n);
        out[r] = s.kind == RowCase::regular ? A::logsumexp(s, z, n) : logsumexp_special(s);
      }
    }
    return SOFTCERT_OK;
  }

  static int sigmoid(const T* x, T* y, std::size_t count) {
    if (int e = check_rows<T>(x, y, 1, count)) return e;
    for (std::size_t i = 0; i < count; ++i) y[i] = A::sigmoid(x[i]);
    return SOFTCERT_OK;
  }

  static int cross_entropy(const T* z, const int64_t* labels, T* loss, std::size_t rows, std::size_t n) {
    if (int e = check_labelled_rows<T>(z, labels, loss, rows, n)) return e;
    for (std::size_t r = 0; r < rows; ++r) {
      const T* row = z + r * n;
      const auto label = static_cast<std::size_t>(labels[r]);
      const RowScan<T> s = scan_row(row, n);
      loss[r] = s.kind == RowCase::regular ? A::cross_entropy(s, row, label, n)
                                           : cross_entropy_special(s, row, label);
    }
    return SOFTCERT_OK;
  }

  static int cross_entropy_grad(const T* z, const int64_t* labels, T* grad, std::size_t rows, std::size_t n) {
    if (int e = check_labelled_rows<T>(z, labels, grad, rows, n)) return e;
    for (std::size_t r = 0; r < rows; ++r) {
      const T* row = z + r * n;
      const auto label = static_cast<std::size_t>(labels[r]);
      const RowScan<T> s = scan_row(row, n);
      if (s.kind == RowCase::regular) A::cross_entropy_grad(s, row, label, grad + r * n, n);
      else cross_entropy_grad_special(s, row, label, grad + r * n, n);
    }
    return SOFTCERT_OK;
  }

  static int softmax_backward(const T* y, const T* dy, T* dx, std::size_t rows, std::size_t n) {
    if (dy == nullptr) return SOFTCERT_ERR_NULL;
    if (int e = check_rows<T>(y, dx, rows, n)) return e;
    for (std::size_t r = 0; r < rows; ++r) A::softmax_backward(y + r * n, dy + r * n, dx + r * n, n);
    return SOFTCERT_OK;
  }

  static int attention(const T* q, const T* k, const T* v, T* out, std::size_t lq, std::size_t lk,
                       std::size_t d, std::size_t dv, int causal) {
    if (!q || !k || !v || !out) return SOFTCERT_ERR_NULL;
    if (lq == 0 || lk == 0 || d == 0 || dv == 0) return SOFTCERT_ERR_EMPTY;
    if (!fits<T>(lq, d) || !fits<T>(lk, d) || !fits<T>(lk, dv) || !fits<T>(lq, dv)) return SOFTCERT_ERR_SIZE;
    A::attention(q, k, v, out, lq, lk, d, dv, causal != 0);
    return SOFTCERT_OK;
  }

 private:
  static void softmax_one(const T* z, T* y, std::size_t n, const uint8_t* keep, T t) {
    if constexpr (ScansItself<A>) {
      A::softmax_row(z, y, n);  // online: plain softmax only (no keep, t = 1)
    } else {
      const RowScan<T> s = scan_row(z, n, keep);
      if (s.kind == RowCase::regular) A::softmax(s, z, y, n, keep, t);
      else softmax_special(s, z, y, n, keep);
    }
  }
};

// The kernel table of algorithm A for type T: the softmax family always, the rest unless A scans
// the row itself (online). plugin/plugin.cc exports the same two lists.
template <typename A, typename T>
TypedKernels<T> kernels_of() {
  using B = Batch<A, T>;
  TypedKernels<T> k;
#define SOFTCERT_SET_KERNEL(name, dtype, params, args) k.name = &B::name;
  SOFTCERT_ABI_SOFTMAX_FAMILY(SOFTCERT_SET_KERNEL, T, unused)
  if constexpr (!ScansItself<A>) {
    SOFTCERT_ABI_OTHER_KERNELS(SOFTCERT_SET_KERNEL, T, unused)
  }
#undef SOFTCERT_SET_KERNEL
  return k;
}

// A reduced-precision call (binary16 / bfloat16 bits) through a Work kernel: the rows widened to
// Work (exactly: every value of the format is a float), the kernel, and one rounding of each result
// to the format. A batch goes through in chunks of whole rows (one row at least) in two per-thread
// buffers of about kReducedChunk elements each, so a call allocates nothing once they have grown and
// its memory does not grow with the batch.
inline constexpr std::size_t kReducedChunk = std::size_t(1) << 15;

template <typename Work, const FloatFormat& F>
int through_format(int (*kernel)(const Work*, Work*, std::size_t, std::size_t), const uint16_t* x, uint16_t* y,
                   std::size_t rows, std::size_t n) {
  if (int e = check_rows<Work>(x, y, rows, n)) return e;
  const std::size_t chunk_rows = std::max<std::size_t>(1, std::min(rows, kReducedChunk / n));
  thread_local std::vector<Work> in, out;
  try {
    if (in.size() < chunk_rows * n) {
      in.resize(chunk_rows * n);
      out.resize(chunk_rows * n);
    }
  } catch (const std::bad_alloc&) {
    return SOFTCERT_ERR_SIZE;  // nothing crosses the C ABI, nothing written
  }
  for (std::size_t r = 0; r < rows; r += chunk_rows) {
    const std::size_t count = std::min(chunk_rows, rows - r) * n;
    const uint16_t* from = x + r * n;
    for (std::size_t i = 0; i < count; ++i) in[i] = decode(from[i], F);
    if (int e = kernel(in.data(), out.data(), count / n, n)) return e;  // the rows were checked above
    uint16_t* to = y + r * n;
    for (std::size_t i = 0; i < count; ++i) to[i] = encode(static_cast<double>(out[i]), F);
  }
  return SOFTCERT_OK;
}

// The reduced-precision kernels of algorithm A through its own Work kernels. Work = double makes
// the rounding to the format the only error beyond the f64 kernel's; Work = float is what
// frameworks do for half precision.
template <typename A, typename Work, const FloatFormat& F>
struct ReducedBatch {
  static int softmax(const uint16_t* x, uint16_t* y, std::size_t rows, std::size_t n) {
    return through_format<Work, F>(&Batch<A, Work>::softmax, x, y, rows, n);
  }
  static int log_softmax(const uint16_t* x, uint16_t* y, std::size_t rows, std::size_t n) {
    return through_format<Work, F>(&Batch<A, Work>::log_softmax, x, y, rows, n);
  }
};

// Fills impl.f16 and impl.bf16 with algorithm A's reduced kernels over Work.
template <typename A, typename Work>
void set_reduced_kernels(Implementation& impl) {
  impl.f16 = {&ReducedBatch<A, Work, kBinary16>::softmax, &ReducedBatch<A, Work, kBinary16>::log_softmax};
  impl.bf16 = {&ReducedBatch<A, Work, kBFloat16>::softmax, &ReducedBatch<A, Work, kBFloat16>::log_softmax};
}

}  // namespace softcert::lib

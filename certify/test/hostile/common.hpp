// What every hostile plugin shares: a CORRECT, self-contained softmax (f32 and f64) behind the
// plugin ABI of softcert/abi.h (DESIGN.md §3), and the macros that export it. Each hostile plugin
// (one .cc each) wraps this kernel with one misbehaviour that a certifier must survive and report:
// a crash, a hang, an exit, an exception, a stray write, a changed input, an unwritten output, a
// flood of output, a changed floating-point environment, a wrong ABI version or a garbage status.
//
// The kernel is the tutorial's stable algorithm (subtract the row max, exponentiate, sum,
// normalise) with DESIGN.md §2's strict special values and abi.h's input validation, the same
// algorithm as properties/test/broken/common.hpp and lib/src/stable.cc, so that everything a
// certifier sees apart from the hostile behaviour passes.
//
// Self-contained on purpose: a plugin includes only the ABI header and links nothing but the C++
// standard library and libm, as a third party's would.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "softcert/abi.h"

namespace hostile {
// Internal linkage for everything here (one plugin is one translation unit): only the ABI symbols
// defined by the HOSTILE_* macros below leave the shared library.
namespace {

using std::size_t;

template <typename T>
inline constexpr T kInf = std::numeric_limits<T>::infinity();
template <typename T>
inline constexpr T kNaN = std::numeric_limits<T>::quiet_NaN();

// abi.h's validation, before anything is written: SOFTCERT_OK when x and y are usable buffers of
// rows × n elements.
template <typename T>
int check(const T* x, const T* y, size_t rows, size_t n) {
  if (x == nullptr || y == nullptr) return SOFTCERT_ERR_NULL;
  if (rows == 0 || n == 0) return SOFTCERT_ERR_EMPTY;
  if (rows > std::numeric_limits<size_t>::max() / n / sizeof(T)) return SOFTCERT_ERR_SIZE;
  return SOFTCERT_OK;
}

// One row, correct: a NaN makes the row NaN; k > 0 +inf entries give 1/k there and 0 elsewhere;
// a row of only -inf gives all zeros (one of the choices DESIGN.md §2 allows); otherwise the
// max-shifted softmax, where -inf entries give exactly 0.
template <typename T>
void softmax_row(const T* z, T* y, size_t n) {
  bool nan = false;
  size_t pos_inf = 0, finite = 0;
  T max = -kInf<T>;
  for (size_t i = 0; i < n; ++i) {
    const T v = z[i];
    if (std::isnan(v)) {
      nan = true;
    } else if (v == kInf<T>) {
      ++pos_inf;
    } else if (v != -kInf<T>) {
      if (finite == 0 || v > max) max = v;
      ++finite;
    }
  }
  if (nan || pos_inf > 0 || finite == 0) {
    for (size_t i = 0; i < n; ++i) {
      if (nan) y[i] = kNaN<T>;
      else if (pos_inf > 0 && z[i] == kInf<T>) y[i] = T(1) / static_cast<T>(pos_inf);
      else y[i] = T(0);
    }
    return;
  }
  T sum = 0;
  for (size_t i = 0; i < n; ++i) {
    y[i] = std::exp(z[i] - max);  // -inf entries: exp(-inf) = 0
    sum += y[i];
  }
  for (size_t i = 0; i < n; ++i) y[i] /= sum;
}

// The whole ABI kernel, correct: validation, then the row loop.
template <typename T>
int softmax(const T* x, T* y, size_t rows, size_t n) {
  if (const int e = check(x, y, rows, n)) return e;
  for (size_t r = 0; r < rows; ++r) softmax_row(x + r * n, y + r * n, n);
  return SOFTCERT_OK;
}

}  // namespace
}  // namespace hostile

// ---- exports ----------------------------------------------------------------------------------
#define HOSTILE_API extern "C" __attribute__((visibility("default")))

// softcert_abi_version() returning V.
#define HOSTILE_ABI_VERSION(V) \
  HOSTILE_API int softcert_abi_version(void) { return (V); }

// softcert_name() = "hostile-" NAME.
#define HOSTILE_NAME(NAME) \
  HOSTILE_API const char* softcert_name(void) { return "hostile-" NAME; }

// The usual pair: the right ABI version and the name.
#define HOSTILE_PLUGIN(NAME)                  \
  HOSTILE_ABI_VERSION(SOFTCERT_ABI_VERSION) \
  HOSTILE_NAME(NAME)

// softcert_softmax_f32 and softcert_softmax_f64, each calling F<T>(x, y, rows, n), where F is a
// function template (the hostile kernel) declared before the macro. Not noexcept: extern "C" does
// not make a C++ function non-throwing, so a C++ exception thrown in F leaves through the ABI.
#define HOSTILE_EXPORT_SOFTMAX(F)                                                         \
  HOSTILE_API int softcert_softmax_f32(const float* x, float* y, size_t rows, size_t n) {   \
    return F<float>(x, y, rows, n);                                                       \
  }                                                                                       \
  HOSTILE_API int softcert_softmax_f64(const double* x, double* y, size_t rows, size_t n) { \
    return F<double>(x, y, rows, n);                                                      \
  }

// An implementation of the softmax family as a table of kernels with the plugin ABI's signatures
// (abi.h). lib's own algorithms, a dlopen'ed plugin and (later) an out-of-process implementation
// are all reached through this one type, so every check is written once for all of them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "softcert/abi.h"
#include "softcert/float_format.hpp"

namespace softcert {

// The kernels of one floating-point type T; a null pointer means "not provided".
template <typename T>
struct TypedKernels {
  int (*softmax)(const T* x, T* y, size_t rows, size_t n) = nullptr;
  int (*log_softmax)(const T* x, T* y, size_t rows, size_t n) = nullptr;
  int (*logsumexp)(const T* x, T* out, size_t rows, size_t n) = nullptr;
  int (*softmax_temperature)(const T* x, T* y, size_t rows, size_t n, T t) = nullptr;
  int (*sigmoid)(const T* x, T* y, size_t count) = nullptr;
  int (*cross_entropy)(const T* z, const int64_t* labels, T* loss, size_t rows, size_t n) = nullptr;
  int (*cross_entropy_grad)(const T* z, const int64_t* labels, T* grad, size_t rows, size_t n) = nullptr;
  int (*softmax_backward)(const T* y, const T* dy, T* dx, size_t rows, size_t n) = nullptr;
  int (*masked_softmax)(const T* x, const uint8_t* keep, T* y, size_t rows, size_t n) = nullptr;
  int (*attention)(const T* q, const T* k, const T* v, T* out, size_t lq, size_t lk, size_t d,
                   size_t dv, int causal) = nullptr;
};

// The reduced-precision kernels of one format (IEEE binary16 or bfloat16 bit patterns).
struct ReducedKernels {
  int (*softmax)(const uint16_t* x, uint16_t* y, size_t rows, size_t n) = nullptr;
  int (*log_softmax)(const uint16_t* x, uint16_t* y, size_t rows, size_t n) = nullptr;
};

// The reduced formats of the ABI, in the order the certifier reports them.
inline constexpr const FloatFormat* kReducedFormats[] = {&kBinary16, &kBFloat16};

// One implementation: a name (a lib algorithm such as "stable", or a plugin's softcert_name)
// and its kernels per type.
struct Implementation {
  std::string name;
  TypedKernels<float> f32;
  TypedKernels<double> f64;
  ReducedKernels f16;
  ReducedKernels bf16;

  const ReducedKernels& reduced(const FloatFormat& f) const { return f.name == kBinary16.name ? f16 : bf16; }
  ReducedKernels& reduced(const FloatFormat& f) { return f.name == kBinary16.name ? f16 : bf16; }

  template <typename T>
  const TypedKernels<T>& kernels() const {
    if constexpr (sizeof(T) == sizeof(float)) return f32; else return f64;
  }
};

// The functions of DESIGN.md §2, in the order the ABI lists them.
enum class Function {
  softmax,
  log_softmax,
  logsumexp,
  softmax_temperature,
  sigmoid,
  cross_entropy,
  cross_entropy_grad,
  softmax_backward,
  masked_softmax,
  attention,
};
inline constexpr Function kAllFunctions[] = {
    Function::softmax,        Function::log_softmax,      Function::logsumexp,
    Function::softmax_temperature, Function::sigmoid,     Function::cross_entropy,
    Function::cross_entropy_grad, Function::softmax_backward, Function::masked_softmax,
    Function::attention};

std::string_view function_name(Function f);  // "softmax", "log_softmax", ... as in the ABI
std::string_view status_name(int status);    // "SOFTCERT_ERR_LABEL", ... or "declined (N)"

template <typename T>
constexpr std::string_view dtype_name() {
  return sizeof(T) == sizeof(float) ? "f32" : "f64";
}

// Whether `impl` provides function f for type T.
template <typename T>
bool provides(const Implementation& impl, Function f) {
  const TypedKernels<T>& k = impl.kernels<T>();
  switch (f) {
    case Function::softmax: return k.softmax != nullptr;
    case Function::log_softmax: return k.log_softmax != nullptr;
    case Function::logsumexp: return k.logsumexp != nullptr;
    case Function::softmax_temperature: return k.softmax_temperature != nullptr;
    case Function::sigmoid: return k.sigmoid != nullptr;
    case Function::cross_entropy: return k.cross_entropy != nullptr;
    case Function::cross_entropy_grad: return k.cross_entropy_grad != nullptr;
    case Function::softmax_backward: return k.softmax_backward != nullptr;
    case Function::masked_softmax: return k.masked_softmax != nullptr;
    case Function::attention: return k.attention != nullptr;
  }
  return false;
}

// The kernel id used as test name, CLI name and report name: "f32_softmax_online".
template <typename T>
std::string kernel_id(const Implementation& impl, Function f) {
  return std::string(dtype_name<T>()) + "_" + std::string(function_name(f)) + "_" + impl.name;
}

// lib's algorithms (see lib/README.md):
//   "stable"   the max-subtracted algorithm the tutorial teaches, in the working type;
//   "online"   single pass with running max and rescaled sum (softmax, log_softmax, logsumexp);
//   "accurate" f32 with f64 internals, f64 with error-free transformations; <= 1 ULP aimed.
const std::vector<Implementation>& builtin_implementations();

// The builtin named `name`, or nullptr.
const Implementation* find_builtin(std::string_view name);

}  // namespace softcert

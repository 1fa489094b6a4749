// Test helper: call any row-shaped kernel of a TypedKernels<T> through one signature, so the
// tests run every function of every lib algorithm without a switch in each test.
#pragma once

#include <cstdint>
#include <vector>

#include "softcert/implementation.hpp"

namespace softcert::test {

// The functions with rows × n shaped input and output (attention is tested on its own).
inline constexpr Function kRowFunctions[] = {
    Function::softmax,        Function::log_softmax,        Function::logsumexp,
    Function::softmax_temperature, Function::sigmoid,      Function::cross_entropy,
    Function::cross_entropy_grad, Function::softmax_backward, Function::masked_softmax};

// Outputs per row: one for logsumexp and cross_entropy, n otherwise.
inline std::size_t outputs_per_row(Function f, std::size_t n) {
  return f == Function::logsumexp || f == Function::cross_entropy ? 1 : n;
}

template <typename T>
struct RowCall {
  const T* x;
  T* y;
  std::size_t rows;
  std::size_t n;
  const int64_t* labels = nullptr;
  const uint8_t* keep = nullptr;
  const T* dy = nullptr;
  T t = 1;
};

// Calls kernel f; sigmoid treats rows × n as the element count.
template <typename T>
int call(const TypedKernels<T>& k, Function f, const RowCall<T>& c) {
  switch (f) {
    case Function::softmax: return k.softmax(c.x, c.y, c.rows, c.n);
    case Function::log_softmax: return k.log_softmax(c.x, c.y, c.rows, c.n);
    case Function::logsumexp: return k.logsumexp(c.x, c.y, c.rows, c.n);
    case Function::softmax_temperature: return k.softmax_temperature(c.x, c.y, c.rows, c.n, c.t);
    case Function::sigmoid: return k.sigmoid(c.x, c.y, c.rows * c.n);
    case Function::cross_entropy: return k.cross_entropy(c.x, c.labels, c.y, c.rows, c.n);
    case Function::cross_entropy_grad: return k.cross_entropy_grad(c.x, c.labels, c.y, c.rows, c.n);
    case Function::softmax_backward: return k.softmax_backward(c.x, c.dy, c.y, c.rows, c.n);
    case Function::masked_softmax: return k.masked_softmax(c.x, c.keep, c.y, c.rows, c.n);
    case Function::attention: break;
  }
  return -1;
}

}  // namespace softcert::test

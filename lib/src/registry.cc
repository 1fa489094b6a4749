// The one list of lib's algorithms: the GoogleTest suites, the certifier (`softcert list`,
// `--builtin NAME`) and the plugins all read it.
#include <string>

#include "algorithms.hpp"
#include "softcert/implementation.hpp"

namespace softcert {

const std::vector<Implementation>& builtin_implementations() {
  static const std::vector<Implementation> all = {lib::make_stable(), lib::make_online(), lib::make_accurate(),
                                                  lib::make_simd()};
  return all;
}

const Implementation* find_builtin(std::string_view name) {
  for (const Implementation& impl : builtin_implementations()) {
    if (impl.name == name) return &impl;
  }
  return nullptr;
}

std::string_view function_name(Function f) {
  switch (f) {
    case Function::softmax: return "softmax";
    case Function::log_softmax: return "log_softmax";
    case Function::logsumexp: return "logsumexp";
    case Function::softmax_temperature: return "softmax_temperature";
    case Function::sigmoid: return "sigmoid";
    case Function::cross_entropy: return "cross_entropy";
    case Function::cross_entropy_grad: return "cross_entropy_grad";
    case Function::softmax_backward: return "softmax_backward";
    case Function::masked_softmax: return "masked_softmax";
    case Function::attention: return "attention";
  }
  return "?";
}

std::string_view status_name(int status) {
  switch (status) {
    case SOFTCERT_OK: return "SOFTCERT_OK";
    case SOFTCERT_ERR_NULL: return "SOFTCERT_ERR_NULL";
    case SOFTCERT_ERR_EMPTY: return "SOFTCERT_ERR_EMPTY";
    case SOFTCERT_ERR_LABEL: return "SOFTCERT_ERR_LABEL";
    case SOFTCERT_ERR_TEMPERATURE: return "SOFTCERT_ERR_TEMPERATURE";
    case SOFTCERT_ERR_SIZE: return "SOFTCERT_ERR_SIZE";
    case SOFTCERT_ERR_UNSUPPORTED: return "SOFTCERT_ERR_UNSUPPORTED";
    default: return "declined (nonzero status)";
  }
}

}  // namespace softcert

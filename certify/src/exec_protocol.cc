// softcert-exec/1 message layout (docs/exec-protocol.md).
#include "exec_protocol.hpp"

#include <cstring>

namespace softcert::certify::exec {
namespace {

// a * b, or nullopt when it overflows or passes kMaxElements.
std::optional<std::uint64_t> product(std::uint64_t a, std::uint64_t b) {
  if (b != 0 && a > kMaxElements / b) return std::nullopt;
  return a * b;
}

}  // namespace

std::size_t width_of(DType dtype) {
  switch (dtype) {
    case DType::f32: return 4;
    case DType::f64: return 8;
    case DType::f16:
    case DType::bf16: return 2;
  }
  return 0;
}

std::string_view dtype_name(DType dtype) {
  switch (dtype) {
    case DType::f32: return "f32";
    case DType::f64: return "f64";
    case DType::f16: return "f16";
    case DType::bf16: return "bf16";
  }
  return "?";
}

std::optional<Shape> shape_of(const Call& call) {
  const std::size_t w = width_of(call.dtype);
  const bool reduced = call.dtype == DType::f16 || call.dtype == DType::bf16;
  if (reduced && call.function != Function::softmax && call.function != Function::log_softmax) return std::nullopt;
  const auto [a, b, c, d] = call.size;
  Shape s;
  auto rows_n = product(a, b);
  switch (call.function) {
    case Function::softmax:
    case Function::log_softmax:
    case Function::softmax_temperature:
      if (!rows_n) return std::nullopt;
      s.inputs = {*rows_n}, s.input_width = {w}, s.outputs = *rows_n;
      return s;
    case Function::logsumexp:
      if (!rows_n) return std::nullopt;
      s.inputs = {*rows_n}, s.input_width = {w}, s.outputs = a;
      return s;
    case Function::sigmoid:
      if (a > kMaxElements) return std::nullopt;
      s.inputs = {a}, s.input_width = {w}, s.outputs = a;
      return s;
    case Function::cross_entropy:
    case Function::cross_entropy_grad:
      if (!rows_n) return std::nullopt;
      s.inputs = {*rows_n, a}, s.input_width = {w, 8};
      s.outputs = call.function == Function::cross_entropy ? a : *rows_n;
      return s;
    case Function::softmax_backward:
      if (!rows_n) return std::nullopt;
      s.inputs = {*rows_n, *rows_n}, s.input_width = {w, w}, s.outputs = *rows_n;
      return s;
    case Function::masked_softmax:
      if (!rows_n) return std::nullopt;
      s.inputs = {*rows_n, *rows_n}, s.input_width = {w, 1}, s.outputs = *rows_n;
      return s;
    case Function::attention: {
      const auto q = product(a, c), k = product(b, c), v = product(b, d), out = product(a, d);
      if (!q || !k || !v || !out) return std::nullopt;
      s.inputs = {*q, *k, *v}, s.input_width = {w, w, w}, s.outputs = *out;
      return s;
    }
  }
  return std::nullopt;
}

void Writer::bytes(const void* p, std::size_t n) {
  const auto* b = static_cast<const std::uint8_t*>(p);
  data_.insert(data_.end(), b, b + n);
}

void write_call_header(Writer& w, const Call& call) {
  w.bytes(kCall, 4);
  w.u8(static_cast<std::uint8_t>(call.function));
  w.u8(static_cast<std::uint8_t>(call.dtype));
  w.u8(call.causal ? 1 : 0);
  w.u8(0);
  for (std::uint64_t s : call.size) w.u64(s);
  w.f64(call.t);
}

std::optional<Call> parse_call_header(std::span<const std::uint8_t> h) {
  if (h.size() != kCallHeaderBytes) return std::nullopt;
  Call call;
  if (h[0] >= std::size(kAllFunctions) || h[1] >= kDTypes || h[2] > 1) return std::nullopt;
  call.function = static_cast<Function>(h[0]);
  call.dtype = static_cast<DType>(h[1]);
  call.causal = h[2] != 0;
  std::memcpy(call.size, h.data() + 4, sizeof call.size);
  std::memcpy(&call.t, h.data() + 4 + sizeof call.size, 8);
  return call;
}

}  // namespace softcert::certify::exec

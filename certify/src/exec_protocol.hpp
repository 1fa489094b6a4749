// softcert-exec/1: the binary protocol between the certifier and an implementation in another
// process (docs/exec-protocol.md is the specification). The isolated plugin host speaks it too,
// so `--plugin` and `--exec` share one transport and one set of failure reasons.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "softcert/implementation.hpp"

namespace softcert::certify::exec {

inline constexpr std::uint32_t kVersion = 1;
inline constexpr char kHello[4] = {'S', 'C', 'X', '1'};
inline constexpr char kRefuse[4] = {'F', 'A', 'I', 'L'};
inline constexpr char kCall[4] = {'C', 'A', 'L', 'L'};
inline constexpr char kDone[4] = {'D', 'O', 'N', 'E'};
// The largest call either side accepts (elements of one array): bigger is SOFTCERT_ERR_SIZE.
inline constexpr std::uint64_t kMaxElements = std::uint64_t(1) << 28;

// f16 and bf16 are IEEE binary16 / bfloat16 bit patterns (u16), for softmax and log_softmax only.
enum class DType : std::uint8_t { f32 = 0, f64 = 1, f16 = 2, bf16 = 3 };
inline constexpr std::size_t kDTypes = 4;
std::string_view dtype_name(DType dtype);  // "f32", "f64", "f16", "bf16" 

template <typename T>
constexpr DType dtype_of() {
  return sizeof(T) == 4 ? DType::f32 : DType::f64;
}

// One kernel call: which kernel, its sizes and scalar arguments, its input arrays (as bytes, in
// the ABI's argument order).
struct Call {
  Function function = Function::softmax;
  DType dtype = DType::f32;
  bool causal = false;
  std::uint64_t size[4] = {};  // rows, n (sigmoid: count); attention: lq, lk, d, dv
  double t = 1;                // softmax_temperature only
};

// What the call reads and writes, in elements, per the ABI's signatures.
struct Shape {
  std::vector<std::uint64_t> inputs;        // element counts of the input arrays, in order
  std::vector<std::size_t> input_width;     // bytes per element of each
  std::uint64_t outputs = 0;                // element count of the one output array
};
// nullopt when a size product overflows or an array exceeds kMaxElements.
std::optional<Shape> shape_of(const Call& call);

std::size_t width_of(DType dtype);

// A growing little-endian byte buffer and a reader over one, for the messages.
class Writer {
 public:
  void bytes(const void* p, std::size_t n);
  void u8(std::uint8_t v) { bytes(&v, 1); }
  void u32(std::uint32_t v) { bytes(&v, 4); }
  void i32(std::int32_t v) { bytes(&v, 4); }
  void u64(std::uint64_t v) { bytes(&v, 8); }
  void f64(double v) { bytes(&v, 8); }
  std::vector<std::uint8_t>& data() { return data_; }

 private:
  std::vector<std::uint8_t> data_;
};

// The CALL message header (after the 4-byte tag) and its parsing.
void write_call_header(Writer& w, const Call& call);
constexpr std::size_t kCallHeaderBytes = 4 + 4 * 8 + 8;  // tag excluded
std::optional<Call> parse_call_header(std::span<const std::uint8_t> header);

}  // namespace softcert::certify::exec

// Fuzz target softmax_backward: the softmax_backward.* properties (dy decoded per entry) on every lib algorithm, strict.
#include "../decode.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace softcert::fuzz;
  return dispatch(data, size, Layout{.dy = true}, [](const auto& in) { check_builtins(in, {"softmax_backward."}); });
}

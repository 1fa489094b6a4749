// Fuzz target temperature: the softmax_temperature.* properties (t decoded from raw bits) on every lib algorithm, strict.
#include "../decode.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace softcert::fuzz;
  return dispatch(data, size, Layout{}, [](const auto& in) { check_builtins(in, {"softmax_temperature."}); });
}

// Fuzz target masked_softmax: the masked_softmax.* properties (a mask byte per entry) on every lib algorithm, strict.
#include "../decode.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace softcert::fuzz;
  return dispatch(data, size, Layout{.keep = true}, [](const auto& in) { check_builtins(in, {"masked_softmax."}); });
}

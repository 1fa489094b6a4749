// Fuzz target cross_entropy: the cross_entropy.* and cross_entropy_grad.* properties on every lib algorithm, strict.
#include "../decode.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace softcert::fuzz;
  return dispatch(data, size, Layout{}, [](const auto& in) { check_builtins(in, {"cross_entropy.", "cross_entropy_grad."}); });
}

// Fuzz target attention: the attention.* properties (small lq, lk, d, dv; causal from the flags) on every lib algorithm, strict.
#include "../decode.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace softcert::fuzz;
  return dispatch(data, size, Layout{.attention = true}, [](const auto& in) { check_builtins(in, {"attention."}); });
}

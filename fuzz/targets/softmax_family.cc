// Fuzz target softmax_family: the catalogue's softmax, log_softmax, logsumexp and kernel.* properties on every lib algorithm, strict.
#include "../decode.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace softcert::fuzz;
  return dispatch(data, size, Layout{}, [](const auto& in) { check_builtins(in, {"softmax.", "log_softmax.", "logsumexp.", "kernel."}); });
}

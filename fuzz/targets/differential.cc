// Fuzz target differential: every lib algorithm on the same input, each function's output
// compared with the oracle (the *.oracle_agreement properties, n <= kMaxOracleN) and with the
// special-value rules (*.special_values), strict. A failure prints the input, the output, the
// exact value and the ULP distance against the bound.
#include "../decode.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace softcert::fuzz;
  return dispatch(data, size, Layout{.dy = true, .keep = true}, [](const auto& in) {
    if (in.z.size() > kMaxOracleN) return;
    check_builtins(in, {""}, ".oracle_agreement");
    check_builtins(in, {""}, ".special_values");
  });
}

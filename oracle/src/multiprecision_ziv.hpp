// Template body of the Ziv loop declared in multiprecision.hpp.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

namespace softcert::oracle::mp {

template <typename T, typename Evaluate>
std::vector<Exact<T>> ziv(std::vector<std::optional<Exact<T>>> outputs, Evaluate&& evaluate,
                          const FloatFormat& f) {
  ZivStats& stats = ziv_stats();
  ++stats.calls;
  for (unsigned bits = initial_precision(f);; bits *= 2) {
    if (bits > kMaxPrecisionBits) {
      throw std::runtime_error("oracle: rounding still undecided at " +
                               std::to_string(kMaxPrecisionBits) + " bits of precision");
    }
    if (bits > stats.max_precision) stats.max_precision = bits;
    // Only the outputs not yet decided are asked for; evaluate fills the enclosures it computes.
    std::vector<bool> wanted(outputs.size());
    bool any = false;
    for (std::size_t i = 0; i < outputs.size(); ++i) any |= (wanted[i] = !outputs[i].has_value());
    if (!any) break;
    const std::vector<Interval> enclosures = evaluate(bits, wanted);
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      if (wanted[i]) outputs[i] = decide<T>(enclosures[i], f);
    }
    bool all = true;
    for (const auto& o : outputs) all &= o.has_value();
    if (all) break;
    ++stats.retries;
  }
  std::vector<Exact<T>> result;
  result.reserve(outputs.size());
  for (auto& o : outputs) result.push_back(*o);
  return result;
}

}  // namespace softcert::oracle::mp

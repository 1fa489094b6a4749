// The tutorial's worked examples and exercises (seed/softmax-tutorial.txt) as data: the input,
// and the values the tutorial prints with the number of decimals it prints them to. A value
// matches when it lies within half a unit of the last printed decimal.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "softcert/implementation.hpp"

namespace softcert::properties {

struct GoldenExample {
  std::string name;              // where it stands in the tutorial
  Function function;             // softmax, logsumexp or cross_entropy
  std::vector<double> z;         // logits (small integers: exact in f32 and f64)
  std::int64_t label = 0;        // cross_entropy: 0-based (the tutorial counts from 1)
  std::vector<double> printed;   // the values as the tutorial prints them
  int decimals = 0;
};

const std::vector<GoldenExample>& tutorial_examples();

struct GoldenResult {
  enum class Status { pass, fail, declined } status;
  std::string detail;  // what differed, or the kernel's status
};

// Runs `impl` on the example in type T and compares with the printed digits.
template <typename T>
GoldenResult check_golden(const Implementation& impl, const GoldenExample& example);

// The oracle's values for the example in type T.
template <typename T>
std::vector<T> oracle_golden(const GoldenExample& example);

// Whether `value` prints as `printed` to `decimals` places (within half a unit of the last one).
bool matches_printed(double value, double printed, int decimals);

}  // namespace softcert::properties

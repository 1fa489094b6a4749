// The property catalogue: every claim of the tutorial (seed/softmax-tutorial.txt) and every rule
// of DESIGN.md §2 as a function of (an implementation, an input) that says pass, or fail with a
// precise reason: the inputs as hexadecimal floats, what was expected and what came, and which
// bound was used. The same functions serve the GoogleTest/RapidCheck suites, the fuzzers and the
// certifier; tolerances come from the oracle's a-priori bounds (bounds.hpp), never an epsilon.
//
// Use:
//   for (const Property<float>& p : catalogue<float>()) {
//     Input<float> in = ...;                    // from gen::input<float>(p.info.input) or a fuzzer
//     Verdict v = p.check(impl, in, Profile::compatible);
//     if (v.status == Verdict::Status::fail) report(p.info.name, v.detail);
//   }
// A property that needs a function the implementation does not provide, or whose kernel declines
// the call, answers Status::skip; so does one whose input is outside its domain (e.g. a shift c
// that would not be exact).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "softcert/bounds.hpp"
#include "softcert/implementation.hpp"

namespace softcert::properties {

// DESIGN.md §2: `compatible` fails only what no convention allows; `strict` demands the
// mathematical limits, and exact monotonicity and ties.
enum class Profile { compatible, strict };

// Which inputs a property wants (generators.hpp builds each kind).
enum class InputKind {
  finite_row,    // z: finite logits (any regime), label, c, t, permutation seed
  any_row,       // z: any encodings (NaN, ±inf, subnormals), label, keep
  masked_row,    // z: finite logits with keep
  pair,          // z = {a, b} finite
  batch,         // z: rows × n finite logits (rows > 1), labels per row
  attention,     // q, k, v and sizes
};

template <typename T>
struct Input {
  std::vector<T> z;                // the row (n = z.size() / rows)
  std::size_t rows = 1;
  std::vector<T> dy;               // upstream gradient, same size as one row
  std::vector<std::int64_t> labels{0};
  std::vector<std::uint8_t> keep;  // 1 = attend
  T c = 0;                         // a shift
  T t = 1;                         // a temperature
  std::uint64_t seed = 0;          // permutations and other derived choices
  std::vector<T> q, k, v;          // attention
  std::size_t lq = 0, lk = 0, d = 0, dv = 0;
  bool causal = false;
  // The f16/bf16 kernels' format when the row is of a reduced format (T = float carries it):
  // the special-value properties check those kernels too.
  const FloatFormat* reduced = nullptr;

  std::size_t n() const { return rows ? z.size() / rows : 0; }
};

struct Verdict {
  enum class Status { pass, fail, skip };
  Status status = Status::pass;
  std::string detail;  // failure: inputs (hex), expected vs got, the bound; skip: why

  static Verdict pass() { return {}; }
  static Verdict skip(std::string why) { return {Status::skip, std::move(why)}; }
  static Verdict fail(std::string why) { return {Status::fail, std::move(why)}; }
  bool failed() const { return status == Status::fail; }
};

struct PropertyInfo {
  std::string name;   // "softmax.sum_to_one": the test name, the report's check name
  std::string claim;  // the tutorial's sentence or DESIGN.md rule it checks
  InputKind input;
};

template <typename T>
using PropertyCheck = Verdict (*)(const Implementation& impl, const Input<T>& in, Profile profile);

template <typename T>
struct Property {
  PropertyInfo info;
  PropertyCheck<T> check;
};

// Every property, in the order docs/properties.md lists them.
template <typename T>
const std::vector<Property<T>>& catalogue();

// The property named `name`, or nullptr.
template <typename T>
const Property<T>* find_property(const std::string& name);

// Renders an input as hexadecimal floats (what a failure prints).
template <typename T>
std::string describe(const Input<T>& in);

// Fixed rows of special values every `*.special_values` property sees in a certification, besides
// the random ones (DESIGN.md §2: NaN, ±inf, a row of only −inf, ±0, subnormals, the largest
// finite values, and these mixed), each with label 0.
template <typename T>
std::vector<Input<T>> special_inputs();

}  // namespace softcert::properties

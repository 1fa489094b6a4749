// Oracle agreement: run an implementation on generated inputs and measure its error against the
// oracle's correctly rounded values, in ULPs, next to the a-priori bound for each input.
// One case = one row (or one attention problem) with its exact outputs, computed once and
// reused for every implementation that is measured on it.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <span>
#include <string>
#include <vector>

#include "softcert/bounds.hpp"
#include "softcert/implementation.hpp"
#include "softcert/oracle.hpp"
#include "softcert/properties/regimes.hpp"

namespace softcert::properties {

// Thrown when a kernel writes outside its output; properties report it as a failure.
struct KernelMisbehaved : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Calls call(pointer) with `count` outputs surrounded by guard zones of a NaN payload that no
// arithmetic produces, and with the outputs themselves poisoned with it (so an output never
// written shows as NaN); `out` receives the outputs. Throws KernelMisbehaved when a guard changed.
// The poison's bits for elements of `Bytes` bytes: a NaN in f64, f32, and in both f16 and bf16.
template <std::size_t Bytes>
using PoisonBits = std::conditional_t<Bytes == 2, std::uint16_t, std::conditional_t<Bytes == 4, std::uint32_t, std::uint64_t>>;
template <std::size_t Bytes>
constexpr PoisonBits<Bytes> kPoison = Bytes == 2 ? PoisonBits<Bytes>(0x7fa5u)
                                      : Bytes == 4 ? PoisonBits<Bytes>(0x7fc5a5a5u)
                                                   : PoisonBits<Bytes>(0x7ff8a5a5a5a5a5a5ull);

// T is float, double, or uint16_t (f16/bf16 bit patterns).
template <typename T, typename Call>
int call_guarded(std::vector<T>& out, std::size_t count, Call&& call) {
  constexpr std::size_t kGuard = 64;
  const PoisonBits<sizeof(T)> poison_bits = kPoison<sizeof(T)>;
  T poison;
  std::memcpy(&poison, &poison_bits, sizeof(T));
  std::vector<T> buffer(kGuard + count + kGuard, poison);
  const int status = call(buffer.data() + kGuard);
  for (std::size_t i = 0; i < kGuard; ++i) {
    if (std::memcmp(&buffer[i], &poison, sizeof(T)) != 0 || std::memcmp(&buffer[kGuard + count + i], &poison, sizeof(T)) != 0) {
      throw KernelMisbehaved("wrote outside its output of " + std::to_string(count) + " values (" +
                             (i < kGuard && std::memcmp(&buffer[i], &poison, sizeof(T)) != 0 ? "before" : "after") + " it)");
    }
  }
  out.assign(buffer.begin() + kGuard, buffer.begin() + kGuard + count);
  return status;
}

template <typename T>
struct Case {
  Function function{};
  Regime regime{};
  std::uint64_t seed = 0;          // make_case(function, regime, seed) rebuilds this case
  std::vector<T> x;                // logits; sigmoid inputs; y for softmax_backward; q for attention
  std::vector<T> dy;               // softmax_backward
  std::vector<T> k, v;             // attention
  std::vector<std::uint8_t> keep;  // masked_softmax
  std::int64_t label = 0;          // cross_entropy, cross_entropy_grad
  T t = 1;                         // softmax_temperature
  std::size_t lq = 0, lk = 0, d = 0, dv = 0;
  bool causal = false;
  // The format of the kernel's data and of `exact`: T's own (null), or a reduced format whose
  // values T = float carries (the f16/bf16 kernels; softmax and log_softmax only).
  const FloatFormat* reduced = nullptr;
  std::vector<oracle::Exact<T>> exact;  // the oracle's outputs

  const FloatFormat& format() const { return reduced ? *reduced : format_of<T>(); }
  std::string_view dtype() const { return format().name; }
};

// The case of softmax or log_softmax in `regime` drawn from `seed` for a reduced format: the
// regime's f32 row, its exp thresholds scaled to the format's range, rounded into the format.
Case<float> make_reduced_case(Function function, Regime regime, std::uint64_t seed, const FloatFormat& format);

// Whether impl has the kernel the case calls (T's own, or the reduced format's).
template <typename T>
bool provides(const Implementation& impl, const Case<T>& c) {
  if (c.reduced == nullptr) return provides<T>(impl, c.function);
  const ReducedKernels& k = impl.reduced(*c.reduced);
  return c.function == Function::softmax ? k.softmax != nullptr
         : c.function == Function::log_softmax ? k.log_softmax != nullptr : false;
}

// Whether y is the uniform distribution 1/n, n = y.size(), each entry at most 1.5 ULPs of `f`
// from 1/n (within one step of its rounding): the "uniform" choice for a row of only -inf.
template <typename T>
bool uniform(const std::vector<T>& y, const FloatFormat& f) {
  const double share = 1.0 / static_cast<double>(y.size());
  const double ulp = oracle::ulp_of(share, f);
  for (T v : y) {
    if (!(std::fabs(static_cast<double>(v) - share) <= 1.5 * ulp)) return false;
  }
  return true;
}

// DESIGN.md §2: a softmax row with nothing to attend to (only -inf logits, or masked_softmax with
// no kept finite entry) may be all NaN, all zero or uniform 1/n; the oracle's exact answer is the
// zero row, so comparing against it alone would fail the other two conventions.
template <typename T>
bool nothing_attended(const Case<T>& c) {
  if (c.function != Function::softmax && c.function != Function::softmax_temperature &&
      c.function != Function::masked_softmax) {
    return false;
  }
  for (std::size_t i = 0; i < c.x.size(); ++i) {
    const bool kept = c.function != Function::masked_softmax || c.keep[i] != 0;
    if (kept && !(c.x[i] == -std::numeric_limits<T>::infinity())) return false;
  }
  return true;
}
// For masked_softmax the convention may also hold on the kept entries alone, the masked ones
// being 0 by the function's definition (JAX's softmax(where=) gives NaN there and 0 elsewhere).
template <typename T>
bool allowed_when_nothing_attended(const Case<T>& c, const std::vector<T>& y) {
  auto convention = [&](const std::vector<T>& v) {
    return std::all_of(v.begin(), v.end(), [](T x) { return std::isnan(x); }) ||
           std::all_of(v.begin(), v.end(), [](T x) { return x == 0; }) || (!v.empty() && uniform(v, c.format()));
  };
  if (convention(y)) return true;
  if (c.function != Function::masked_softmax) return false;
  std::vector<T> kept;
  for (std::size_t i = 0; i < y.size(); ++i) {
    if (c.keep[i] != 0) kept.push_back(y[i]);
    else if (y[i] != 0) return false;
  }
  return convention(kept);
}

// ULP error and the bound test of output i in the case's format.
template <typename T>
double ulp_error(const Case<T>& c, std::size_t i, T computed) {
  if constexpr (sizeof(T) == sizeof(float)) {
    if (c.reduced) return oracle::ulp_error(computed, c.exact[i], *c.reduced);
  }
  return oracle::ulp_error(computed, c.exact[i]);
}
template <typename T>
bool within_bound(const Case<T>& c, std::size_t i, T computed, double bound_ulps) {
  if constexpr (sizeof(T) == sizeof(float)) {
    if (c.reduced) return oracle::within_bound(computed, c.exact[i], bound_ulps, *c.reduced);
  }
  return oracle::within_bound(computed, c.exact[i], bound_ulps);
}

// The case of `function` in `regime` drawn from `seed`, with its exact outputs.
template <typename T>
Case<T> make_case(Function function, Regime regime, std::uint64_t seed);

// Computes c.exact (the oracle's outputs) from c's function and inputs.
template <typename T>
void fill_exact(Case<T>& c);

// Whether make_case has inputs for this pair (attention and sigmoid use a subset of regimes).
bool applicable(Function function, Regime regime);

// Runs impl's kernel for the case (rows = 1); returns its status, outputs in `out`.
template <typename T>
int run(const Implementation& impl, const Case<T>& c, std::vector<T>& out);

// Per-output bounds (ULPs of the exact outputs) of the algorithm `model` describes.
template <typename T>
std::vector<double> bounds(const Case<T>& c, oracle::BoundModel model);

// Values as a list of hexadecimal floats ("[0x1p+0, -0x1.8p-3]"), the first max_values of them.
template <typename T>
std::string hex_floats(std::span<const T> values, std::size_t max_values = 24);

// The inputs as hexadecimal floats, for a counterexample a person can paste.
template <typename T>
std::string describe_inputs(const Case<T>& c, std::size_t max_values = 24);

struct Agreement {
  std::size_t cases = 0;
  std::size_t outputs = 0;
  std::size_t declined = 0;
  std::size_t over_bound = 0;   // outputs whose ULP error exceeds the bound
  double max_ulp = 0;           // over every output (inf for a wrong special value)
  double max_ulp_normal = 0;    // over outputs whose exact value is a finite normal number or 0
  double max_bound_ratio = 0;   // max of error / bound
  std::string worst;            // the worst output over the bound (or the largest error)
  // One per case that was not declined: the row length (attention: lk), the spread of its
  // finite inputs (max - min; attention: of the scores' inputs q and k) and its largest error,
  // for the report's plots of error against n and against spread.
  struct Sample {
    std::size_t n = 0;
    double spread = 0;
    double max_ulp = 0;
  };
  std::vector<Sample> samples;

  void merge(const Agreement& other);
};

// Measures one implementation on `cases` (all of one function and type).
template <typename T>
Agreement measure(const Implementation& impl, std::span<const Case<T>> cases,
                  oracle::BoundModel model);

// The bound model that describes lib's algorithm `name` ("online" → Algorithm::online).
oracle::BoundModel bound_model_for(std::string_view implementation_name);

}  // namespace softcert::properties

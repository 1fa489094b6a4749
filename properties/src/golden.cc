#include "softcert/properties/golden.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "softcert/oracle.hpp"

namespace softcert::properties {

const std::vector<GoldenExample>& tutorial_examples() {
  static const std::vector<GoldenExample> examples = {
      {"worked example 1: softmax(2, 1, 0)", Function::softmax, {2, 1, 0}, 0, {0.665, 0.245, 0.090}, 3},
      {"worked example 2: stable softmax(1000, 1001, 999)", Function::softmax, {1000, 1001, 999}, 0,
       {0.2447, 0.6652, 0.0900}, 4},
      {"worked example 3: cross-entropy of (3, 1, -2, 0), true class the logit 1", Function::cross_entropy,
       {3, 1, -2, 0}, 1, {2.1755}, 4},
      {"worked example 3: log-sum-exp of (3, 1, -2, 0)", Function::logsumexp, {3, 1, -2, 0}, 0, {3.1755}, 4},
      {"exercise 1: softmax(0, 0, 0, 0) is uniform", Function::softmax, {0, 0, 0, 0}, 0,
       {0.25, 0.25, 0.25, 0.25}, 2},
      {"exercise 3: cross-entropy of (5, 2, 1), true class the first entry", Function::cross_entropy,
       {5, 2, 1}, 0, {0.0659}, 4},
      {"exercise 3: log-sum-exp of (5, 2, 1)", Function::logsumexp, {5, 2, 1}, 0, {5.0659}, 4},
  };
  return examples;
}

bool matches_printed(double value, double printed, int decimals) {
  return std::fabs(value - printed) <= 0.5 * std::pow(10.0, -decimals);
}

namespace {
template <typename T>
GoldenResult compare(const std::vector<T>& got, const GoldenExample& e) {
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (!matches_printed(got[i], e.printed[i], e.decimals)) {
      return {GoldenResult::Status::fail,
              fmt::format("output[{}] = {:a} ({:.{}f}), the tutorial prints {:.{}f}", i, got[i],
                          static_cast<double>(got[i]), e.decimals + 2, e.printed[i], e.decimals)};
    }
  }
  return {GoldenResult::Status::pass, ""};
}
}  // namespace

template <typename T>
std::vector<T> oracle_golden(const GoldenExample& e) {
  const std::vector<T> z(e.z.begin(), e.z.end());
  std::vector<T> out;
  switch (e.function) {
    case Function::softmax:
      for (const auto& v : oracle::softmax<T>(z)) out.push_back(v.value);
      break;
    case Function::logsumexp: out.push_back(oracle::logsumexp<T>(z).value); break;
    case Function::cross_entropy:
      out.push_back(oracle::cross_entropy<T>(z, static_cast<std::size_t>(e.label)).value);
      break;
    default: break;
  }
  return out;
}

template <typename T>
GoldenResult check_golden(const Implementation& impl, const GoldenExample& e) {
  const std::vector<T> z(e.z.begin(), e.z.end());
  const TypedKernels<T>& k = impl.kernels<T>();
  std::vector<T> out(e.printed.size(), std::numeric_limits<T>::quiet_NaN());
  int status = SOFTCERT_ERR_UNSUPPORTED;
  switch (e.function) {
    case Function::softmax:
      if (k.softmax) status = k.softmax(z.data(), out.data(), 1, z.size());
      break;
    case Function::logsumexp:
      if (k.logsumexp) status = k.logsumexp(z.data(), out.data(), 1, z.size());
      break;
    case Function::cross_entropy:
      if (k.cross_entropy) status = k.cross_entropy(z.data(), &e.label, out.data(), 1, z.size());
      break;
    default: break;
  }
  if (status != SOFTCERT_OK) return {GoldenResult::Status::declined, std::string(status_name(status))};
  return compare(out, e);
}

template std::vector<float> oracle_golden<float>(const GoldenExample&);
template std::vector<double> oracle_golden<double>(const GoldenExample&);
template GoldenResult check_golden<float>(const Implementation&, const GoldenExample&);
template GoldenResult check_golden<double>(const Implementation&, const GoldenExample&);

}  // namespace softcert::properties

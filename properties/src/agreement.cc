#include "softcert/properties/agreement.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "softcert/fast_oracle.hpp"

namespace softcert::properties {
namespace {

template <typename T>
using Exacts = std::vector<oracle::Exact<T>>;

std::size_t pick(std::mt19937_64& rng, std::size_t lo, std::size_t hi) {
  return std::uniform_int_distribution<std::size_t>(lo, hi)(rng);
}

template <typename T>
std::vector<T> normals(std::mt19937_64& rng, std::size_t n, double sd) {
  std::normal_distribution<double> g(0, sd);
  std::vector<T> out(n);
  for (T& v : out) v = static_cast<T>(g(rng));
  return out;
}

template <typename T>
void make_attention(Case<T>& c, std::mt19937_64& rng) {
  c.lq = pick(rng, 1, 8);
  c.lk = c.regime == Regime::simd_tails ? simd_tail_size(c.seed) : pick(rng, 1, 16);
  c.d = pick(rng, 1, 16);
  c.dv = pick(rng, 1, 8);
  c.causal = pick(rng, 0, 1) == 1;
  const double sd = c.regime == Regime::wide_spread ? 5 : 1;
  c.x = normals<T>(rng, c.lq * c.d, sd);
  c.k = normals<T>(rng, c.lk * c.d, sd);
  c.v = normals<T>(rng, c.lk * c.dv, 1);
  if (c.regime == Regime::ties) {  // every key equal: uniform weights, exact rational outputs
    for (std::size_t j = 1; j < c.lk; ++j) std::copy_n(c.k.begin(), c.d, c.k.begin() + j * c.d);
  }
  if (c.regime == Regime::one_dominant && c.lk > 1) {  // one key aligned with every query, large
    for (std::size_t col = 0; col < c.d; ++col) c.k[col] = static_cast<T>(40.0 / std::sqrt(double(c.d)));
    for (T& q : c.x) q = std::fabs(q);
  }
}

}  // namespace

bool applicable(Function function, Regime regime) {
  switch (function) {
    case Function::sigmoid:
      return regime != Regime::large_n;
    case Function::softmax_backward:
      return regime != Regime::large_n && regime != Regime::near_overflow;
    case Function::attention:
      return regime == Regime::small || regime == Regime::wide_spread || regime == Regime::ties ||
             regime == Regime::one_dominant || regime == Regime::simd_tails;
    default:
      return true;
  }
}

template <typename T>
void fill_exact(Case<T>& c) {
  const auto label = static_cast<std::size_t>(c.label);
  if constexpr (sizeof(T) == sizeof(float)) {
    if (c.reduced) {
      if (c.function != Function::softmax && c.function != Function::log_softmax) {
        throw std::invalid_argument("reduced precision: softmax and log_softmax only");
      }
      c.exact = c.function == Function::softmax ? oracle::softmax(c.x, *c.reduced) : oracle::log_softmax(c.x, *c.reduced);
      return;
    }
    switch (c.function) {  // the oracle's double-double fast path (MPFR where it cannot decide)
      case Function::softmax: c.exact = oracle::fast_oracle::softmax_f32(c.x); return;
      case Function::log_softmax: c.exact = oracle::fast_oracle::log_softmax_f32(c.x); return;
      case Function::logsumexp: c.exact = {oracle::fast_oracle::logsumexp_f32(c.x)}; return;
      default: break;
    }
  }
  switch (c.function) {
    case Function::softmax: c.exact = oracle::softmax<T>(c.x); break;
    case Function::log_softmax: c.exact = oracle::log_softmax<T>(c.x); break;
    case Function::logsumexp: c.exact = {oracle::logsumexp<T>(c.x)}; break;
    case Function::softmax_temperature: c.exact = oracle::softmax_temperature<T>(c.x, c.t); break;
    case Function::sigmoid:
      c.exact.clear();
      for (T x : c.x) c.exact.push_back(oracle::sigmoid<T>(x));
      break;
    case Function::cross_entropy: c.exact = {oracle::cross_entropy<T>(c.x, label)}; break;
    case Function::cross_entropy_grad: c.exact = oracle::cross_entropy_grad<T>(c.x, label); break;
    case Function::softmax_backward: c.exact = oracle::softmax_backward<T>(c.x, c.dy); break;
    case Function::masked_softmax: c.exact = oracle::masked_softmax<T>(c.x, c.keep); break;
    case Function::attention:
      c.exact = oracle::attention<T>(c.x, c.k, c.v, c.lq, c.lk, c.d, c.dv, c.causal);
      break;
  }
}

template <typename T>
Case<T> make_case(Function function, Regime regime, std::uint64_t seed) {
  Case<T> c;
  c.function = function;
  c.regime = regime;
  c.seed = seed;
  std::mt19937_64 rng(seed);
  if (function == Function::attention) {
    make_attention(c, rng);
  } else {
    c.x = regime == Regime::simd_tails ? make_row<T>(regime, rng, simd_tail_size(seed)) : make_row<T>(regime, rng);
    const std::size_t n = c.x.size();
    switch (function) {
      case Function::softmax_temperature: c.t = make_temperature<T>(rng); break;
      case Function::sigmoid: c.x = {c.x[pick(rng, 0, n - 1)]}; break;
      case Function::cross_entropy:
      case Function::cross_entropy_grad: c.label = static_cast<std::int64_t>(pick(rng, 0, n - 1)); break;
      case Function::softmax_backward: {
        // y is a softmax output (as in training), dy an upstream gradient.
        const Exacts<T> p = oracle::softmax<T>(c.x);
        for (std::size_t i = 0; i < n; ++i) c.x[i] = p[i].value;
        c.dy = normals<T>(rng, n, 1);
        break;
      }
      case Function::masked_softmax: {
        c.keep.resize(n);
        const bool none = pick(rng, 0, 9) == 0;
        for (auto& k : c.keep) k = !none && pick(rng, 0, 9) < 7;
        break;
      }
      default: break;
    }
  }
  fill_exact(c);
  return c;
}

Case<float> make_reduced_case(Function function, Regime regime, std::uint64_t seed, const FloatFormat& format) {
  Case<float> c;
  c.function = function;
  c.regime = regime;
  c.seed = seed;
  c.reduced = &format;
  std::mt19937_64 rng(seed);
  c.x = make_reduced_row(regime, rng, format, regime == Regime::simd_tails ? simd_tail_size(seed) : 0);
  fill_exact(c);
  return c;
}

template <typename T>
std::size_t output_count(const Case<T>& c) {
  switch (c.function) {
    case Function::logsumexp:
    case Function::cross_entropy: return 1;
    case Function::attention: return c.lq * c.dv;
    default: return c.x.size();
  }
}

// A reduced-format case: the row encoded, the kernel on the bits (guarded), the outputs decoded.
int run_reduced(const Implementation& impl, const Case<float>& c, std::vector<float>& out) {
  const ReducedKernels& k = impl.reduced(*c.reduced);
  const auto kernel = c.function == Function::softmax ? k.softmax : k.log_softmax;
  const std::size_t n = c.x.size();
  std::vector<std::uint16_t> x(n), y;
  for (std::size_t i = 0; i < n; ++i) x[i] = encode(c.x[i], *c.reduced);
  const int status = call_guarded(y, n, [&](std::uint16_t* p) { return kernel(x.data(), p, 1, n); });
  out.resize(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = decode(y[i], *c.reduced);
  return status;
}

template <typename T>
int run(const Implementation& impl, const Case<T>& c, std::vector<T>& out) {
  if constexpr (sizeof(T) == sizeof(float)) {
    if (c.reduced) return run_reduced(impl, c, out);
  }
  const TypedKernels<T>& k = impl.kernels<T>();
  const std::size_t n = c.x.size();
  return call_guarded(out, output_count(c), [&](T* y) {
    switch (c.function) {
      case Function::softmax: return k.softmax(c.x.data(), y, 1, n);
      case Function::log_softmax: return k.log_softmax(c.x.data(), y, 1, n);
      case Function::logsumexp: return k.logsumexp(c.x.data(), y, 1, n);
      case Function::softmax_temperature: return k.softmax_temperature(c.x.data(), y, 1, n, c.t);
      case Function::sigmoid: return k.sigmoid(c.x.data(), y, n);  // n values, one row
      case Function::cross_entropy: return k.cross_entropy(c.x.data(), &c.label, y, 1, n);
      case Function::cross_entropy_grad: return k.cross_entropy_grad(c.x.data(), &c.label, y, 1, n);
      case Function::softmax_backward: return k.softmax_backward(c.x.data(), c.dy.data(), y, 1, n);
      case Function::masked_softmax: return k.masked_softmax(c.x.data(), c.keep.data(), y, 1, n);
      case Function::attention:
        return k.attention(c.x.data(), c.k.data(), c.v.data(), y, c.lq, c.lk, c.d, c.dv, c.causal);
    }
    return int(SOFTCERT_ERR_UNSUPPORTED);
  });
}

template <typename T>
std::vector<double> bounds(const Case<T>& c, oracle::BoundModel model) {
  using namespace oracle;
  const auto label = static_cast<std::size_t>(c.label);
  if constexpr (sizeof(T) == sizeof(float)) {
    if (c.reduced) {
      return c.function == Function::softmax ? softmax_bound(c.x, c.exact, *c.reduced, model)
                                             : log_softmax_bound(c.x, c.exact, *c.reduced, model);
    }
  }
  switch (c.function) {
    case Function::softmax: return softmax_bound<T>(c.x, c.exact, model);
    case Function::log_softmax: return log_softmax_bound<T>(c.x, c.exact, model);
    case Function::logsumexp: return {logsumexp_bound<T>(c.x, c.exact[0], model)};
    case Function::softmax_temperature: return softmax_temperature_bound<T>(c.x, c.t, c.exact, model);
    case Function::sigmoid: {
      std::vector<double> b;
      for (std::size_t i = 0; i < c.x.size(); ++i) b.push_back(sigmoid_bound<T>(c.x[i], c.exact[i], model));
      return b;
    }
    case Function::cross_entropy: return {cross_entropy_bound<T>(c.x, label, c.exact[0], model)};
    case Function::cross_entropy_grad: return cross_entropy_grad_bound<T>(c.x, label, c.exact, model);
    case Function::softmax_backward: return softmax_backward_bound<T>(c.x, c.dy, c.exact, model);
    case Function::masked_softmax: return masked_softmax_bound<T>(c.x, c.keep, c.exact, model);
    case Function::attention:
      return attention_bound<T>(c.x, c.k, c.v, c.lq, c.lk, c.d, c.dv, c.causal, c.exact, model);
  }
  return {};
}

template <typename T>
std::string hex_floats(std::span<const T> values, std::size_t max_values) {
  std::string s = "[";
  for (std::size_t i = 0; i < values.size() && i < max_values; ++i) {
    s += fmt::format("{}{:a}", i ? ", " : "", values[i]);
  }
  if (values.size() > max_values) s += fmt::format(", ... ({} values)", values.size());
  return s + "]";
}

template <typename T>
std::string describe_inputs(const Case<T>& c, std::size_t max_values) {
  std::string s = fmt::format("{} {} {} seed={} ", function_name(c.function), c.dtype(),
                              regime_name(c.regime), c.seed);
  if (c.function == Function::attention) {
    return s + fmt::format("lq={} lk={} d={} dv={} causal={} q={} k={} v={}", c.lq, c.lk, c.d, c.dv,
                           c.causal, hex_floats<T>(c.x, max_values), hex_floats<T>(c.k, max_values),
                           hex_floats<T>(c.v, max_values));
  }
  s += fmt::format("{}={}", c.function == Function::softmax_backward ? "y" : "z", hex_floats<T>(c.x, max_values));
  if (c.function == Function::softmax_backward) s += " dy=" + hex_floats<T>(c.dy, max_values);
  if (c.function == Function::softmax_temperature) s += fmt::format(" t={:a}", c.t);
  if (c.function == Function::cross_entropy || c.function == Function::cross_entropy_grad) {
    s += fmt::format(" label={}", c.label);
  }
  if (c.function == Function::masked_softmax) {
    s += " keep=[";
    for (std::size_t i = 0; i < c.keep.size() && i < max_values; ++i) s += c.keep[i] ? '1' : '0';
    s += "]";
  }
  return s;
}

void Agreement::merge(const Agreement& o) {
  cases += o.cases;
  outputs += o.outputs;
  declined += o.declined;
  over_bound += o.over_bound;
  max_ulp = std::max(max_ulp, o.max_ulp);
  max_ulp_normal = std::max(max_ulp_normal, o.max_ulp_normal);
  samples.insert(samples.end(), o.samples.begin(), o.samples.end());
  if (o.max_bound_ratio > max_bound_ratio || worst.empty()) {
    max_bound_ratio = std::max(max_bound_ratio, o.max_bound_ratio);
    if (!o.worst.empty()) worst = o.worst;
  }
}

template <typename T>
Agreement measure(const Implementation& impl, std::span<const Case<T>> cases,
                  oracle::BoundModel model) {
  Agreement a;
  std::vector<T> out;
  double worst_score = -1;
  for (const Case<T>& c : cases) {
    ++a.cases;
    if (run(impl, c, out) != SOFTCERT_OK) {
      ++a.declined;
      continue;
    }
    const std::vector<double> bound = bounds(c, model);
    Agreement::Sample sample;
    if (nothing_attended(c) && allowed_when_nothing_attended(c, out)) {  // a §2 convention
      a.outputs += out.size();
      sample.n = c.x.size();
      a.samples.push_back(sample);
      continue;
    }
    sample.n = c.function == Function::attention ? c.lk : c.x.size();
    {
      double lo = std::numeric_limits<double>::infinity(), hi = -lo;
      for (const auto* values : {&c.x, &c.k}) {
        for (T x : *values) {
          if (std::isfinite(x)) lo = std::min(lo, double(x)), hi = std::max(hi, double(x));
        }
      }
      sample.spread = hi >= lo ? hi - lo : 0;
    }
    for (std::size_t i = 0; i < out.size(); ++i) {
      const oracle::Exact<T>& e = c.exact[i];
      const double err = ulp_error(c, i, out[i]);
      ++a.outputs;
      a.max_ulp = std::max(a.max_ulp, err);
      sample.max_ulp = std::max(sample.max_ulp, err);
      if (std::isfinite(e.value) && (e.value == 0 || std::fabs(e.value) >= c.format().min_normal())) {
        a.max_ulp_normal = std::max(a.max_ulp_normal, err);
      }
      // An output over its bound; a bound of 0 (an exact special value) admits only that value.
      const bool over = !within_bound(c, i, out[i], bound[i]);
      const double ratio = over && !(err > bound[i]) ? std::numeric_limits<double>::infinity()
                           : bound[i] > 0 ? err / bound[i] : (err > 0 ? std::numeric_limits<double>::infinity() : 0);
      a.over_bound += over;
      a.max_bound_ratio = std::max(a.max_bound_ratio, ratio);
      const double score = over ? 1e300 + ratio : err;  // report a violation before a large error
      if (score > worst_score) {
        worst_score = score;
        a.worst = fmt::format("{} output[{}]: got {:a} exact {:a} ({:.3g} ULP, bound {:.3g} ULP)",
                              describe_inputs(c), i, out[i], e.value, err, bound[i]);
      }
    }
    a.samples.push_back(sample);
  }
  return a;
}

oracle::BoundModel bound_model_for(std::string_view implementation_name) {
  oracle::BoundModel m;
  if (implementation_name == "online") m.algorithm = oracle::Algorithm::online;
  return m;
}

#define SOFTCERT_AGREEMENT_INSTANTIATE(T)                                                         \
  template Case<T> make_case<T>(Function, Regime, std::uint64_t);                                 \
  template void fill_exact<T>(Case<T>&);                                                          \
  template int run<T>(const Implementation&, const Case<T>&, std::vector<T>&);                    \
  template std::vector<double> bounds<T>(const Case<T>&, oracle::BoundModel);                     \
  template std::string describe_inputs<T>(const Case<T>&, std::size_t);                           \
  template std::string hex_floats<T>(std::span<const T>, std::size_t);                           \
  template Agreement measure<T>(const Implementation&, std::span<const Case<T>>, oracle::BoundModel);

SOFTCERT_AGREEMENT_INSTANTIATE(float)
SOFTCERT_AGREEMENT_INSTANTIATE(double)

}  // namespace softcert::properties

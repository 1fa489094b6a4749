// The property catalogue (catalogue.hpp). Each property states one claim and checks it with a
// tolerance from the oracle: an identity between exact values (softmax(z + c) = softmax(z))
// allows each computed side its own a-priori bound around the common exact value; a limit or an
// inequality allows the bound of the values involved; nothing else.
#include "softcert/properties/catalogue.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <optional>
#include <random>

#include "softcert/oracle.hpp"
#include "softcert/properties/agreement.hpp"

namespace softcert::properties {
namespace {

using Ld = long double;
using oracle::Exact;

template <typename T>
constexpr T kInf = std::numeric_limits<T>::infinity();

template <typename T>
std::string hex(const std::vector<T>& v) {
  return hex_floats<T>(v);
}

template <typename T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

// |error| allowed around an exact value, in absolute terms, from a bound in ULPs.
template <typename T>
Ld absolute(const Exact<T>& e, double ulps) {
  if (!std::isfinite(e.value)) return 0;
  return Ld(ulps) * Ld(oracle::ulp_of<T>(e.hi));
}

// The allowance for a kernel that flushes a subnormal result to zero: DESIGN.md §2 reports
// flushing (behaviour/subnormal_results), it does not fail it, so an identity between two
// computations may differ by the whole subnormal value.
template <typename T>
Ld flush_allowance(const Exact<T>& e) {
  const Ld v = std::fabs(Ld(e.hi));
  return v < Ld(std::numeric_limits<T>::min()) ? v : Ld(0);
}

// One check's context: the implementation, its input, the profile, and calls that hand the
// kernel a copy of its inputs (a kernel that writes its input cannot corrupt the next check).
template <typename T>
struct Ctx {
  const Implementation& impl;
  const Input<T>& in;
  Profile profile;

  Case<T> make(Function f, std::vector<T> z) const {
    Case<T> c;
    c.function = f;
    c.x = std::move(z);
    c.dy = in.dy;
    c.keep = in.keep;
    c.label = in.labels.empty() ? 0 : in.labels[0];
    c.t = in.t;
    c.k = in.k, c.v = in.v, c.lq = in.lq, c.lk = in.lk, c.d = in.d, c.dv = in.dv, c.causal = in.causal;
    if (f == Function::masked_softmax && c.keep.size() != c.x.size()) c.keep.assign(c.x.size(), 1);
    if (f == Function::softmax_backward && c.dy.size() != c.x.size()) c.dy.assign(c.x.size(), T(1));
    if (f == Function::attention) c.x = in.q;
    c.reduced = in.reduced;
    return c;
  }
  bool has(Function f) const { return provides(impl, make(f, {})); }
  Case<T> exact(Function f, std::vector<T> z) const {
    Case<T> c = make(f, std::move(z));
    fill_exact(c);
    return c;
  }
  // The kernel's outputs, or nullopt when it is not provided or declines.
  std::optional<std::vector<T>> run(const Case<T>& c) const {
    if (!provides(impl, c)) return std::nullopt;
    Case<T> copy = c;
    std::vector<T> out;
    if (properties::run(impl, copy, out) != SOFTCERT_OK) return std::nullopt;
    return out;
  }
  std::vector<double> bound(const Case<T>& c) const { return bounds(c, bound_model_for(impl.name)); }
  std::string input() const { return describe(in); }
};

// Whether `diff` exceeds `allowed`. A NaN tolerance (0 · inf where a bound is infinite) bounds
// nothing; a NaN difference (a NaN output) always exceeds.
inline bool beyond(long double diff, long double allowed) {
  return !std::isnan(allowed) && !(diff <= allowed);
}

// The same rule for tolerances used in one-sided comparisons: NaN becomes +inf.
inline long double tolerance(long double allowed) {
  return std::isnan(allowed) ? std::numeric_limits<long double>::infinity() : allowed;
}

template <typename T>
Verdict skip_missing(const Implementation& impl, std::initializer_list<Function> fs) {
  for (Function f : fs) {
    if (!provides<T>(impl, f)) return Verdict::skip(fmt::format("{} not provided", function_name(f)));
  }
  return Verdict::pass();
}

bool finite_row(const auto& z) {
  return std::all_of(z.begin(), z.end(), [](auto x) { return std::isfinite(x); });
}

// ---------------------------------------------------------------------------------------------
// Oracle agreement: every output within the a-priori bound of its exact value.

template <typename T>
Verdict agreement_of(const Ctx<T>& x, const Case<T>& c, const std::string& what) {
  const auto out = x.run(c);
  if (!out) return Verdict::skip(std::string(function_name(c.function)) + " not provided or declined");
  if (nothing_attended(c) && allowed_when_nothing_attended(c, *out)) return Verdict::pass();  // §2
  const std::vector<double> b = x.bound(c);
  for (std::size_t i = 0; i < out->size(); ++i) {
    const double err = ulp_error(c, i, (*out)[i]);
    if (!within_bound(c, i, (*out)[i], b[i])) {
      return Verdict::fail(fmt::format("{}: output[{}] = {:a}, exact {:a}: {:.4g} ULP > bound {:.4g} ULP; input {}",
                                       what, i, (*out)[i], c.exact[i].value, err, b[i], x.input()));
    }
  }
  return Verdict::pass();
}

template <typename T, Function F>
Verdict oracle_agreement(const Implementation& impl, const Input<T>& in, Profile p) {
  const Ctx<T> x{impl, in, p};
  if (!x.has(F)) return Verdict::skip("not provided");
  std::vector<T> z = in.z;
  if constexpr (F == Function::softmax_backward) {
    // y is a softmax output, as in training.
    for (std::size_t i = 0; const auto& e : oracle::softmax<T>(in.z)) z[i++] = e.value;
  }
  return agreement_of(x, x.exact(F, z), std::string(function_name(F)) + " against the oracle");
}

// ---------------------------------------------------------------------------------------------
// Special values (DESIGN.md §2) on rows with any encodings.

template <typename T>
bool all_nan(const std::vector<T>& v) {
  return std::all_of(v.begin(), v.end(), [](T y) { return std::isnan(y); });
}

template <typename T, Function F>
Verdict special_values(const Implementation& impl, const Input<T>& in, Profile p) {
  const Ctx<T> x{impl, in, p};
  if (!x.has(F)) return Verdict::skip("not provided");
  const Case<T> c = x.exact(F, in.z);
  const auto out = x.run(c);
  if (!out) return Verdict::skip("declined");
  bool nan = false, pos_inf = false, any_finite = false;
  for (T z : in.z) {
    nan |= std::isnan(z);
    pos_inf |= z == kInf<T>;
    any_finite |= std::isfinite(z);
  }
  const bool all_neg_inf = !nan && !pos_inf && !any_finite;
  const std::string where = fmt::format("{} of {}", function_name(F), hex(in.z));
  if (nan) {
    if (!all_nan(*out)) return Verdict::fail(fmt::format("{}: a NaN input must make every output NaN, got {}", where, hex(*out)));
    return Verdict::pass();
  }
  if (pos_inf && p == Profile::compatible && all_nan(*out)) return Verdict::pass();  // an allowed convention
  if (all_neg_inf) {
    // A fully masked row: softmax all NaN, all 0 or uniform; lse exactly -inf; log_softmax all
    // -inf or all NaN; cross-entropy +inf (NaN too in the compatible profile).
    const std::size_t n = in.z.size();
    auto all_equal = [&](T v) { return std::all_of(out->begin(), out->end(), [&](T y) { return y == v; }); };
    bool ok = false;
    switch (F) {
      case Function::softmax:
        ok = all_nan(*out) || all_equal(T(0)) || uniform(*out, c.format());
        break;
      case Function::log_softmax: ok = all_nan(*out) || all_equal(-kInf<T>); break;
      case Function::logsumexp: ok = all_equal(-kInf<T>); break;
      case Function::cross_entropy: ok = all_equal(kInf<T>) || (p == Profile::compatible && all_nan(*out)); break;
      default: ok = true;
    }
    if (!ok) return Verdict::fail(fmt::format("{}: a row of only -inf allows none of {}", where, hex(*out)));
    return Verdict::pass();
  }
  // The +inf limit and regular rows (with -inf entries, subnormals): the oracle's value within
  // the bound; a limit that is a rounded constant (1/3, log 2) within 1 ULP.
  const std::vector<double> b = x.bound(c);
  for (std::size_t i = 0; i < out->size(); ++i) {
    const double allowed = pos_inf ? (c.exact[i].exact ? 0.0 : 1.0) : b[i];
    const double err = ulp_error(c, i, (*out)[i]);
    if (!within_bound(c, i, (*out)[i], allowed)) {
      return Verdict::fail(fmt::format("{}: output[{}] = {:a}, expected {:a} ({:.4g} ULP > {:.4g})", where, i,
                                       (*out)[i], c.exact[i].value, err, allowed));
    }
  }
  return Verdict::pass();
}

// ---------------------------------------------------------------------------------------------
// Range and sum.

template <typename T>
Verdict softmax_range(const Implementation& impl, const Input<T>& in, Profile p) {
  const Ctx<T> x{impl, in, p};
  const auto out = x.run(x.make(Function::softmax, in.z));
  if (!out) return Verdict::skip("softmax not provided");
  for (std::size_t i = 0; i < out->size(); ++i) {
    const T v = (*out)[i];
    if (!(v >= 0 && v <= 1)) {
      return Verdict::fail(fmt::format("softmax output[{}] = {:a} is outside [0, 1]; input {}", i, v, x.input()));
    }
  }
  return Verdict::pass();
}

template <typename T>
Verdict log_softmax_range(const Implementation& impl, const Input<T>& in, Profile p) {
  const Ctx<T> x{impl, in, p};
  const auto out = x.run(x.make(Function::log_softmax, in.z));
  if (!out) return Verdict::skip("log_softmax not provided");
  for (std::size_t i = 0; i < out->size(); ++i) {
    if (!((*out)[i] <= 0)) {
      return Verdict::fail(fmt::format("log_softmax output[{}] = {:a} is not <= 0; input {}", i, (*out)[i], x.input()));
    }
  }
  return Verdict::pass();
}

// Finite logits never give NaN, from any function (DESIGN.md §2).
template <typename T>
Verdict finite_in_no_nan(const Implementation& impl, const Input<T>& in, Profile p) {
  const Ctx<T> x{impl, in, p};
  bool ran = false;
  for (Function f : {Function::softmax, Function::log_softmax, Function::logsumexp, Function::softmax_temperature,
                     Function::sigmoid, Function::cross_entropy, Function::cross_entropy_grad, Function::masked_softmax}) {
    const auto out = x.run(x.make(f, in.z));
    if (!out) continue;
    ran = true;
    for (std::size_t i = 0; i < out->size(); ++i) {
      if (std::isnan((*out)[i])) {
        return Verdict::fail(fmt::format("{} output[{}] is NaN for finite input {}", function_name(f), i, x.input()));
      }
    }
  }
  return ran ? Verdict::pass() : Verdict::skip("nothing provided");
}

template <typename T>
Verdict sum_to_one(const Implementation& impl, const Input<T>& in, Profile p) {
  const Ctx<T> x{impl, in, p};
  const Case<T> c = x.exact(Function::softmax, in.z);
  const auto out = x.run(c);
  if (!out) return Verdict::skip("softmax not provided");
  const std::vector<double> b = x.bound(c);
  Ld sum = 0, allowed = 0;
  for (std::size_t i = 0; i < out->size(); ++i) {
    sum += (*out)[i];
    allowed += absolute(c.exact[i], b[i]);
  }
  allowed += Ld(out->size()) * std::numeric_limits<Ld>::epsilon();  // the long double sum itself
  if (beyond(std::fabs(sum - 1), allowed)) {
    return Verdict::fail(fmt::format("softmax sums to 1 {:+.6Lg}, beyond the bound {:.6Lg}; input {}", sum - 1,
                                     allowed, x.input()));
  }
  return Verdict::pass();
}

// ---------------------------------------------------------------------------------------------
// Shift invariance, ratio, monotonicity, permutation.

// z + c when every entry stays exact (TwoSum error 0, finite); nullopt otherwise.
template <typename T>
std::optional<std::vector<T>> shifted(const std::vector<T>& z, T c) {
  std::vector<T> s(z.size());
  for (std::size_t i = 0; i < z.size(); ++i) {
    s[i] = z[i] + c;
    const T back = s[i] - c;
    if (!std::isfinite(s[i]) || back != z[i] || s[i] - back != c) return std::nullopt;
  }
  return s;
}

// Each side of an identity between equal exact values is within its own bound of that value, so
// the two computed sides differ by at most the sum of the bounds.
template <typename T>
Verdict same_exact(const Ctx<T>& x, const Case<T>& a, const Case<T>& b, const std::string& what) {
  const auto ya = x.run(a), yb = x.run(b);
  if (!ya || !yb) return Verdict::skip("not provided or declined");
  const std::vector<double> ba = x.bound(a), bb = x.bound(b);
  for (std::size_t i = 0; i < ya->size(); ++i) {
    const Ld allowed = absolute(a.exact[i], ba[i]) + absolute(b.exact[i], bb[i]);
    const Ld diff = std::fabs(Ld((*ya)[i]) - Ld((*yb)[i]));
    const bool both_same_special = !std::isfinite((*ya)[i]) && (*ya)[i] == (*yb)[i];
    if (beyond(diff, allowed) && !both_same_special) {
      return Verdict::fail(fmt::format("{}: output[{}] {:a} vs {:a} differ by {:.4Lg} > {:.4Lg}; input {}", what, i,
                                       (*ya)[i], (*yb)[i], diff, allowed, x.input()));
    }
  }
  return Verdict::pass();
}

// f(z + c) = f(z) for a function whose exact value ignores the shift (softmax, cross-entropy).
template <typename T, Function F>
Verdict shift_invariance(const Implementation& impl, const Input<T>& in, Profile p) {
  const Ctx<T> x{impl, in, p};
  const auto s = shifted(in.z, in.c);
  if (!s) return Verdict::skip("z + c not exact");
  Case<T> a = x.exact(F, in.z), b = x.make(F, *s);
  b.exact = a.exact;  // the same exact values
  return same_exact(x, a, b, fmt::format("{0}(z + c) vs {0}(z), c = {1:a}", function_name(F), in.c));
}

template <typename T>
Verdict logsumexp_shift(const Implementation& impl, const Input<T>& in, Profile p) {
  const Ctx<T> x{impl, in, p};
  const auto s = shifted(in.z, in.c);
  if (!s) return Verdict::skip("z + c not exact");
  const Case<T> a = x.exact(Function::logsumexp, in.z), b = x.exact(Function::logsumexp, *s);
  const auto ya = x.run(a), yb = x.run(b);
  if (!ya || !yb) return Verdict::skip("logsumexp not provided");
  const Ld lhs = (*yb)[0], rhs = Ld((*ya)[0]) + Ld(in.c);
  const Ld allowed = absolute(a.exact[0], x.bound(a)[0]) + absolute(b.exact[0], x.bound(b)[0]) +
                     std::fabs(rhs) * std::numeric_limits<Ld>::epsilon();
  if (beyond(std::fabs(lhs - rhs), allowed)) {
    return Verdict::fail(fmt::format("lse(z + c) = {:a} but lse(z) + c = {:.20Lg} (c = {:a}), beyond {:.4Lg}; input {}",
                                     (*yb)[0], rhs, in.c, allowed, x.input()));
  }
  return Verdict::pass();
}

template <typename T>
Verdict softmax_ratio(const Implementation& impl, const Input<T>& in, Profile p) {
  const Ctx<T> x{impl, in, p};
  const Case<T> c = x.exact(Function::softmax, in.z);
  const auto out = x.run(c);
  if (!out) return Verdict::skip("softmax not provided");
  const std::vector<double> b = x.bound(c);
  const std::size_t n = out->size();
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n && j < i + 8; ++j) {
      const T pi = (*out)[i], pj = (*out)[j];
      if (!(pi >= std::numeric_limits<T>::min() && pj >= std::numeric_limits<T>::min())) continue;
      const Ld ri = absolute(c.exact[i], b[i]) / Ld(c.exact[i].hi), rj = absolute(c.exact[j], b[j]) / Ld(c.exact[j].hi);
      if (ri >= 0.5 || rj >= 0.5) continue;
      // p̂_i = p_i (1 + e_i), |e_i| <= r_i: log(p̂_i / p̂_j) is within -log(1 - r_i) - log(1 - r_j) of z_i - z_j.
      const Ld lhs = std::log(Ld(pi)) - std::log(Ld(pj));
      const Ld rhs = Ld(in.z[i]) - Ld(in.z[j]);
      const Ld slack = 8 * std::numeric_limits<Ld>::epsilon() * (std::fabs(std::log(Ld(pi))) + std::fabs(std::log(Ld(pj))) + std::fabs(rhs));
      const Ld allowed = -std::log1p(-ri) - std::log1p(-rj) + slack;
      if (beyond(std::fabs(lhs - rhs), allowed)) {
        return Verdict::fail(fmt::format("p[{}]/p[{}] = exp({:.12Lg}) but z[{}] - z[{}] = {:.12Lg} (allowed {:.3Lg}); input {}",
                                         i, j, lhs, i, j, rhs, allowed, x.input()));
      }
    }
  }
  return Verdict::pass();
}

template <typename T>
Verdict softmax_monotone(const Implementation& impl, const Input<T>& in, Profile p) {
  const Ctx<T> x{impl, in, p};
  const Case<T> c = x.exact(Function::softmax, in.z);
  const auto out = x.run(c);
  if (!out) return Verdict::skip("softmax not provided");
  const std::vector<double> b = x.bound(c);
  const bool strict = p == Profile::strict;
  for (std::size_t i = 0; i < out->size(); ++i) {
    for (std::size_t j = 0; j < out->size(); ++j) {
      const Ld slack = strict ? 0 : tolerance(absolute(c.exact[i], b[i]) + absolute(c.exact[j], b[j]));
      const T pi = (*out)[i], pj = (*out)[j];
      if (in.z[i] > in.z[j] && !(Ld(pi) >= Ld(pj) - slack)) {
        return Verdict::fail(fmt::format("z[{}] > z[{}] but p[{}] = {:a} < p[{}] = {:a}; input {}", i, j, i, pi, j, pj, x.input()));
      }
      if (in.z[i] == in.z[j] && !(std::fabs(Ld(pi) - Ld(pj)) <= slack)) {
        return Verdict::fail(fmt::format("z[{}] == z[{}] but p[{}] = {:a} != p[{}] = {:a}; input {}", i, j, i, pi, j, pj, x.input()));
      }
    }
  }
  return Verdict::pass();
}

template <typename T>
Verdict softmax_permutation(const Implementation& impl, const Input<T>& in, Profile p) {
  const Ctx<T> x{impl, in, p};
  std::vector<std::size_t> perm(in.z.size());
  std::iota(perm.begin(), perm.end(), 0);
  std::mt19937_64 rng(in.seed);
  std::shuffle(perm.begin(), perm.end(), rng);
  std::vector<T> pz(in.z.size());
  for (std::size_t i = 0; i < perm.size(); ++i) pz[i] = in.z[perm[i]];
  Case<T> a = x.exact(Function::softmax, in.z);
  Case<T> b = x.make(Function::softmax, pz);
  for (std::size_t i = 0; i < perm.size(); ++i) b.exact.push_back(a.exact[perm[i]]);
  // Compare softmax(πz)_i with softmax(z)_{π(i)}.
  const auto ya = x.run(a), yb = x.run(b);
  if (!ya || !yb) return Verdict::skip("softmax not provided");
  const std::vector<double> ba = x.bound(a), bb = x.bound(b);
  for (std::size_t i = 0; i < perm.size(); ++i) {
    const Ld allowed = absolute(b.exact[i], bb[i]) + absolute(a.exact[perm[i]], ba[perm[i]]);
    if (beyond(std::fabs(Ld((*yb)[i]) - Ld((*ya)[perm[i]])), allowed)) {
      return Verdict::fail(fmt::format("softmax(πz)[{}] = {:a} but softmax(z)[π({})={}] = {:a}; input {}", i,
                                       (*yb)[i], i, perm[i], (*ya)[perm[i]], x.input()));
    }
  }
  return Verdict::pass();
}

// ---------------------------------------------------------------------------------------------
// Sigmoid.

template <typename T>
std::optional<std::vector<T>> sigmoid_of(const Ctx<T>& x, const std::vector<T>& v) {
  return x.run(x.make(Function::sigmoid, v));
}

template <typename T>
Verdict sigmoid_two_class(const Implementation& impl, const Input<T>& in, Profile p) {
  const Ctx<T> x{impl, in, p};
  if (Verdict v = skip_missing<T>(impl, {Function::softmax, Function::sigmoid}); v.status == Verdict::Status::skip) return v;
  if (in.z.size() < 2) return Verdict::skip("needs a pair");
  const T a = in.z[0], b = in.z[1];
  const T diff = a - b;
  if (!std::isfinite(diff) || diff + b != a || a - diff != b) return Verdict::skip("a - b not exact");
  // softmax([a, b])_0 = σ(a - b): one exact value, two computations.
  Case<T> sm = x.exact(Function::softmax, {a, b});
  Case<T> sg = x.exact(Function::sigmoid, {diff});
  const auto ps = x.run(sm), ss = x.run(sg);
  if (!ps || !ss) return Verdict::skip("declined");
  const Ld allowed = absolute(sm.exact[0], x.bound(sm)[0]) + absolute(sg.exact[0], x.bound(sg)[0]) +
                    flush_allowance(sm.exact[0]);
  if (beyond(std::fabs(Ld((*ps)[0]) - Ld((*ss)[0])), allowed)) {
    return Verdict::fail(fmt::format("softmax([{:a}, {:a}])_0 = {:a} but sigmoid({:a}) = {:a} (allowed {:.4Lg})", a, b,
                                     (*ps)[0], diff, (*ss)[0], allowed));
  }
  return Verdict::pass();
}

template <typename T>
Verdict sigmoid_symmetry(const Implementation& impl, const Input<T>& in, Profile p) {
  const Ctx<T> x{impl, in, p};
  std::vector<T> neg(in.z.size());
  for (std::size_t i = 0; i < in.z.size(); ++i) neg[i] = -in.z[i];
  const Case<T> a = x.exact(Function::sigmoid, in.z), b = x.exact(Function::sigmoid, neg);
  const auto ya = x.run(a), yb = x.run(b);
  if (!ya || !yb) return Verdict::skip("sigmoid not provided");
  const std::vector<double> ba = x.bound(a), bb = x.bound(b);
  for (std::size_t i = 0; i < ya->size(); ++i) {
    const Ld allowed = absolute(a.exact[i], ba[i]) + absolute(b.exact[i], bb[i]) + std::numeric_limits<Ld>::epsilon();
    const Ld sum = Ld((*ya)[i]) + Ld((*yb)[i]);
    if (beyond(std::fabs(sum - 1), allowed)) {
      return Verdict::fail(fmt::format("sigmoid({:a}) + sigmoid({:a}) = 1 {:+.4Lg}, beyond {:.4Lg}", in.z[i], neg[i], sum - 1, allowed));
    }
  }
  return Verdict::pass();
}

template <typename T>
Verdict sigmoid_monotone(const Implementation& impl, const Input<T>& in, Profile p) {
  const Ctx<T> x{impl, in, p};
  std::vector<T> sorted = in.z;
  std::sort(sorted.begin(), sorted.end());
  const Case<T> c = x.exact(Function::sigmoid, sorted);
  const auto y = x.run(c);
  if (!y) return Verdict::skip("sigmoid not provided");
  const std::vector<double> b = x.bound(c);
  for (std::size_t i = 1; i < y->size(); ++i) {
    const Ld slack = p == Profile::strict ? 0 : tolerance(absolute(c.exact[i], b[i]) + absolute(c.exact[i - 1], b[i - 1]));
    if (!(Ld((*y)[i]) >= Ld((*y)[i - 1]) - slack)) {
      return Verdict::fail(fmt::format("sigmoid is not monotone: sigmoid({:a}) = {:a} > sigmoid({:a}) = {:a}", sorted[i - 1],
                                       (*y)[i - 1], sorted[i], (*y)[i]));
    }
  }
  return Verdict::pass();
}

// ---------------------------------------------------------------------------------------------
// Temperature.

template <typename T>
Verdict temperature_at(const Ctx<T>& x, T t, const std::string& what) {
  Case<T> c = x.make(Function::softmax_temperature, x.in.z);
  c.t = t;
  fill_exact(c);
  return agreement_of(x, c, what);
}

// T -> 0+: one-hot at the argmax, split evenly over ties. With t below every gap / 2000, every
// non-maximal exp((z_i - max)/t) is below exp(-2000): the exact value is fl(1/k) and 0.
template <typename T>
Verdict temperature_zero(const Implementation& impl, const Input<T>& in, Profile p) {
  const Ctx<T> x{impl, in, p};
  if (!provides<T>(impl, Function::softmax_temperature)) return Verdict::skip("not provided");
  const T m = *std::max_element(in.z.begin(), in.z.end());
  Ld gap = std::numeric_limits<Ld>::infinity();
  for (T z : in.z) if (z < m) gap = std::min(gap, Ld(m) - Ld(z));
  if (std::isinf(gap)) return Verdict::skip("all logits tie");
  const T t = static_cast<T>(gap / 2000);
  if (!(t >= std::numeric_limits<T>::min())) return Verdict::skip("gap too small for a normal t");
  return temperature_at(x, t, fmt::format("softmax(z / t) at t = {:a} (T -> 0+ limit: one-hot at the argmax)", t));
}

// T -> inf: uniform. With t above max |z_i - max| · 2^(p+4), every exponent is below 2^-(p+4).
template <typename T>
Verdict temperature_infinite(const Implementation& impl, const Input<T>& in, Profile p) {
  const Ctx<T> x{impl, in, p};
  if (!provides<T>(impl, Function::softmax_temperature)) return Verdict::skip("not provided");
  const auto [lo, hi] = std::minmax_element(in.z.begin(), in.z.end());
  const Ld spread = std::max(Ld(*hi) - Ld(*lo), Ld(1));
  const Ld t = std::ldexp(spread, std::numeric_limits<T>::digits + 4);
  if (!(t <= Ld(std::numeric_limits<T>::max()))) return Verdict::skip("spread too wide");
  return temperature_at(x, static_cast<T>(t), "softmax(z / t) at a huge t (T -> inf limit: uniform)");
}

template <typename T>
Verdict temperature_one(const Implementation& impl, const Input<T>& in, Profile p) {
  const Ctx<T> x{impl, in, p};
  Case<T> a = x.make(Function::softmax_temperature, in.z);
  a.t = 1;
  fill_exact(a);
  Case<T> b = x.make(Function::softmax, in.z);
  b.exact = a.exact;
  return same_exact(x, a, b, "softmax_temperature(z, 1) vs softmax(z)");
}

template <typename T>
Ld entropy(const std::vector<T>& p) {
  Ld h = 0;
  for (T v : p) if (v > 0) h -= Ld(v) * std::log(Ld(v));
  return h;
}

template <typename T>
Verdict temperature_entropy(const Implementation& impl, const Input<T>& in, Profile p) {
  const Ctx<T> x{impl, in, p};
  if (!provides<T>(impl, Function::softmax_temperature)) return Verdict::skip("not provided");
  const T t1 = in.t, t2 = in.t * 2;
  if (!std::isfinite(t2)) return Verdict::skip("2t overflows");
  Case<T> a = x.make(Function::softmax_temperature, in.z), b = a;
  a.t = t1, b.t = t2;
  fill_exact(a), fill_exact(b);
  const auto ya = x.run(a), yb = x.run(b);
  if (!ya || !yb) return Verdict::skip("declined");
  // dH = -Σ (log p_i + 1) dp_i: each output's bound moves H by at most (|log p̂_i| + 1) · bound_i.
  Ld allowed = 0;
  const std::vector<double> ba = x.bound(a), bb = x.bound(b);
  for (std::size_t i = 0; i < ya->size(); ++i) {
    allowed += (std::fabs(std::log(std::max(Ld((*ya)[i]), Ld(1e-300L)))) + 1) * absolute(a.exact[i], ba[i]);
    allowed += (std::fabs(std::log(std::max(Ld((*yb)[i]), Ld(1e-300L)))) + 1) * absolute(b.exact[i], bb[i]);
  }
  allowed += 16 * std::numeric_limits<Ld>::epsilon() * (1 + entropy(*ya) + entropy(*yb));
  if (!(entropy(*ya) <= entropy(*yb) + allowed)) {
    return Verdict::fail(fmt::format("entropy falls from {:.12Lg} at t = {:a} to {:.12Lg} at t = {:a}; input {}", entropy(*ya),
                                     t1, entropy(*yb), t2, x.input()));
  }
  return Verdict::pass();
}

// ---------------------------------------------------------------------------------------------
// Log-sum-exp and log_softmax.

template <typename T>
Verdict logsumexp_between(const Implementation& impl, const Input<T>& in, Profile p) {
  const Ctx<T> x{impl, in, p};
  const Case<T> c = x.exact(Function::logsumexp, in.z);
  const auto y = x.run(c);
  if (!y) return Verdict::skip("logsumexp not provided");
  const Ld allowed = tolerance(absolute(c.exact[0], x.bound(c)[0]));
  const Ld m = *std::max_element(in.z.begin(), in.z.end());
  const Ld upper = m + std::log(Ld(in.z.size()));
  if (!(Ld((*y)[0]) >= m - allowed) || !(Ld((*y)[0]) <= upper + allowed + std::fabs(upper) * std::numeric_limits<Ld>::epsilon())) {
    return Verdict::fail(fmt::format("lse = {:a} is not within [max, max + log n] = [{:a}, {:.20Lg}]; input {}", (*y)[0],
                                     static_cast<T>(m), upper, x.input()));
  }
  return Verdict::pass();
}

template <typename T>
Verdict log_softmax_is_z_minus_lse(const Implementation& impl, const Input<T>& in, Profile p) {
  const Ctx<T> x{impl, in, p};
  const Case<T> ls = x.exact(Function::log_softmax, in.z), lse = x.exact(Function::logsumexp, in.z);
  const auto yls = x.run(ls), ylse = x.run(lse);
  if (!yls || !ylse) return Verdict::skip("log_softmax or logsumexp not provided");
  const std::vector<double> b = x.bound(ls);
  const Ld lse_error = absolute(lse.exact[0], x.bound(lse)[0]);
  for (std::size_t i = 0; i < yls->size(); ++i) {
    // Where the exact log p_i overflows T (z_i near -MAX), z_i - lse is not a value of T.
    if (!std::isfinite(ls.exact[i].value) || !std::isfinite(lse.exact[0].value)) continue;
    const Ld rhs = Ld(in.z[i]) - Ld((*ylse)[0]);
    const Ld allowed = absolute(ls.exact[i], b[i]) + lse_error + std::fabs(rhs) * std::numeric_limits<Ld>::epsilon();
    if (beyond(std::fabs(Ld((*yls)[i]) - rhs), allowed)) {
      return Verdict::fail(fmt::format("log_softmax[{}] = {:a} but z[{}] - lse = {:.20Lg} (allowed {:.4Lg}); input {}", i,
                                       (*yls)[i], i, rhs, allowed, x.input()));
    }
  }
  return Verdict::pass();
}

template <typename T>
Verdict exp_log_softmax_is_softmax(const Implementation& impl, const Input<T>& in, Profile p) {
  const Ctx<T> x{impl, in, p};
  const Case<T> ls = x.exact(Function::log_softmax, in.z), sm = x.exact(Function::softmax, in.z);
  const auto yls = x.run(ls), ysm = x.run(sm);
  if (!yls || !ysm) return Verdict::skip("log_softmax or softmax not provided");
  const std::vector<double> bls = x.bound(ls), bsm = x.bound(sm);
  for (std::size_t i = 0; i < yls->size(); ++i) {
    if (!std::isfinite(bls[i]) || !std::isfinite(bsm[i])) continue;  // the bound says nothing here
    const Ld pi = Ld(sm.exact[i].hi);
    // |exp(log_softmax) - p| <= p (exp(ε) - 1) for an error ε of log_softmax; written as
    // exp(log p + ε) when exp(ε) overflows (p is then 0 to double precision anyway).
    const Ld eps = absolute(ls.exact[i], bls[i]);
    const Ld growth = std::expm1(eps);
    const Ld moved = std::isfinite(growth) ? pi * growth : std::exp(Ld(ls.exact[i].hi) + eps);
    const Ld allowed = moved + absolute(sm.exact[i], bsm[i]) + 8 * pi * std::numeric_limits<Ld>::epsilon() +
                       Ld(std::numeric_limits<T>::denorm_min()) + flush_allowance(sm.exact[i]);
    const Ld e = std::exp(Ld((*yls)[i]));
    if (beyond(std::fabs(e - Ld((*ysm)[i])), allowed)) {
      return Verdict::fail(fmt::format("exp(log_softmax[{}]) = {:.12Lg} but softmax[{}] = {:a} (allowed {:.4Lg}); input {}", i,
                                       e, i, (*ysm)[i], allowed, x.input()));
    }
  }
  return Verdict::pass();
}

// Where p_i underflows to 0, log p_i = z_i - lse is still an ordinary number: log_softmax must
// give it, not -inf (the tutorial's reason to prefer log_softmax over log(softmax)).
template <typename T>
Verdict log_softmax_no_underflow(const Implementation& impl, const Input<T>& in, Profile p) {
  const Ctx<T> x{impl, in, p};
  if (!provides<T>(impl, Function::log_softmax)) return Verdict::skip("not provided");
  // Make underflow happen: append an entry far below the max (z_max - 2000, exact when the
  // max is moderate); keep the rest.
  const T m = *std::max_element(in.z.begin(), in.z.end());
  std::vector<T> z = in.z;
  const T low = m - T(2000);
  if (!std::isfinite(low) || low == m) return Verdict::skip("max too large to go 2000 below");
  z.push_back(low);
  const Case<T> c = x.exact(Function::log_softmax, z);
  const auto y = x.run(c);
  if (!y) return Verdict::skip("declined");
  if (!std::isfinite(y->back())) {
    return Verdict::fail(fmt::format("log_softmax of an entry 2000 below the max is {:a}, the exact value is {:a}; input {}",
                                     y->back(), c.exact.back().value, hex(z)));
  }
  return agreement_of(x, c, "log_softmax where softmax underflows");
}

// ---------------------------------------------------------------------------------------------
// Cross-entropy, its gradient, softmax backward.

template <typename T>
Verdict cross_entropy_nonnegative(const Implementation& impl, const Input<T>& in, Profile p) {
  const Ctx<T> x{impl, in, p};
  const Case<T> c = x.exact(Function::cross_entropy, in.z);
  const auto y = x.run(c);
  if (!y) return Verdict::skip("cross_entropy not provided");
  const Ld slack = p == Profile::strict ? 0 : tolerance(absolute(c.exact[0], x.bound(c)[0]));
  if (!(Ld((*y)[0]) >= -slack)) {
    return Verdict::fail(fmt::format("cross-entropy = {:a} < 0; input {}", (*y)[0], x.input()));
  }
  return Verdict::pass();
}

template <typename T>
Verdict cross_entropy_is_lse_minus_zy(const Implementation& impl, const Input<T>& in, Profile p) {
  const Ctx<T> x{impl, in, p};
  const Case<T> ce = x.exact(Function::cross_entropy, in.z), lse = x.exact(Function::logsumexp, in.z);
  const auto yce = x.run(ce), ylse = x.run(lse);
  if (!yce || !ylse) return Verdict::skip("cross_entropy or logsumexp not provided");
  // Where the exact loss overflows T (z_y near -MAX), lse - z_y is not a value of T.
  if (!std::isfinite(ce.exact[0].value)) return Verdict::skip("the exact loss overflows");
  const Ld rhs = Ld((*ylse)[0]) - Ld(in.z[ce.label]);
  const Ld allowed = absolute(ce.exact[0], x.bound(ce)[0]) + absolute(lse.exact[0], x.bound(lse)[0]) +
                     std::fabs(rhs) * std::numeric_limits<Ld>::epsilon();
  if (beyond(std::fabs(Ld((*yce)[0]) - rhs), allowed)) {
    return Verdict::fail(fmt::format("cross-entropy = {:a} but lse - z[{}] = {:.20Lg} (allowed {:.4Lg}); input {}", (*yce)[0],
                                     ce.label, rhs, allowed, x.input()));
  }
  return Verdict::pass();
}

template <typename T>
Verdict grad_sums_to_zero(const Implementation& impl, const Input<T>& in, Profile p) {
  const Ctx<T> x{impl, in, p};
  const Case<T> c = x.exact(Function::cross_entropy_grad, in.z);
  const auto y = x.run(c);
  if (!y) return Verdict::skip("cross_entropy_grad not provided");
  const std::vector<double> b = x.bound(c);
  Ld sum = 0, allowed = Ld(y->size()) * std::numeric_limits<Ld>::epsilon();
  for (std::size_t i = 0; i < y->size(); ++i) sum += (*y)[i], allowed += absolute(c.exact[i], b[i]);
  if (beyond(std::fabs(sum), allowed)) {
    return Verdict::fail(fmt::format("the gradient sums to {:.6Lg}, beyond {:.4Lg}; input {}", sum, allowed, x.input()));
  }
  return Verdict::pass();
}

// Rows of the Jacobian diag(p) - p pᵀ sum to 0: backward of a constant upstream gradient is 0 up
// to Σ y - 1 (exactly y_i · c · (1 - Σ y)); the oracle's value for that input, within the bound.
template <typename T>
Verdict backward_constant_dy(const Implementation& impl, const Input<T>& in, Profile p) {
  const Ctx<T> x{impl, in, p};
  if (!provides<T>(impl, Function::softmax_backward)) return Verdict::skip("not provided");
  std::vector<T> y(in.z.size());
  for (std::size_t i = 0; const auto& e : oracle::softmax<T>(in.z)) y[i++] = e.value;
  Case<T> c = x.make(Function::softmax_backward, y);
  c.dy.assign(y.size(), in.c == 0 || !std::isfinite(in.c) ? T(1) : in.c);
  fill_exact(c);
  return agreement_of(x, c, "softmax_backward of a constant dy (Jacobian rows sum to 0)");
}

// ---------------------------------------------------------------------------------------------
// Masking.

template <typename T>
Verdict masked_are_zero(const Implementation& impl, const Input<T>& in, Profile p) {
  const Ctx<T> x{impl, in, p};
  const auto y = x.run(x.make(Function::masked_softmax, in.z));
  if (!y) return Verdict::skip("masked_softmax not provided");
  const std::vector<std::uint8_t>& keep = in.keep.size() == in.z.size() ? in.keep : std::vector<std::uint8_t>(in.z.size(), 1);
  const bool none_kept = std::none_of(keep.begin(), keep.end(), [](auto k) { return k != 0; });
  if (none_kept) return Verdict::skip("fully masked (masked_softmax.fully_masked)");
  for (std::size_t i = 0; i < y->size(); ++i) {
    if (!keep[i] && (*y)[i] != 0) {
      return Verdict::fail(fmt::format("masked position {} got {:a}, not 0; input {}", i, (*y)[i], x.input()));
    }
  }
  return Verdict::pass();
}

template <typename T>
Verdict masked_is_softmax_of_kept(const Implementation& impl, const Input<T>& in, Profile p) {
  const Ctx<T> x{impl, in, p};
  if (Verdict v = skip_missing<T>(impl, {Function::softmax, Function::masked_softmax}); v.status == Verdict::Status::skip) return v;
  std::vector<T> kept;
  std::vector<std::size_t> where;
  for (std::size_t i = 0; i < in.z.size(); ++i) if (i < in.keep.size() && in.keep[i]) kept.push_back(in.z[i]), where.push_back(i);
  if (kept.empty()) return Verdict::skip("nothing kept");
  const Case<T> m = x.exact(Function::masked_softmax, in.z), s = x.exact(Function::softmax, kept);
  const auto ym = x.run(m), ys = x.run(s);
  if (!ym || !ys) return Verdict::skip("declined");
  const std::vector<double> bm = x.bound(m), bs = x.bound(s);
  for (std::size_t j = 0; j < kept.size(); ++j) {
    const std::size_t i = where[j];
    const Ld allowed = absolute(m.exact[i], bm[i]) + absolute(s.exact[j], bs[j]);
    if (beyond(std::fabs(Ld((*ym)[i]) - Ld((*ys)[j])), allowed)) {
      return Verdict::fail(fmt::format("masked_softmax[{}] = {:a} but softmax of the kept entries gives {:a}; input {}", i,
                                       (*ym)[i], (*ys)[j], x.input()));
    }
  }
  return Verdict::pass();
}

template <typename T>
Verdict neg_inf_is_masking(const Implementation& impl, const Input<T>& in, Profile p) {
  const Ctx<T> x{impl, in, p};
  if (Verdict v = skip_missing<T>(impl, {Function::softmax, Function::masked_softmax}); v.status == Verdict::Status::skip) return v;
  if (std::none_of(in.keep.begin(), in.keep.end(), [](auto k) { return k != 0; })) return Verdict::skip("nothing kept");
  std::vector<T> z = in.z;
  for (std::size_t i = 0; i < z.size(); ++i) if (!in.keep[i]) z[i] = -kInf<T>;
  Case<T> a = x.exact(Function::masked_softmax, in.z), b = x.make(Function::softmax, z);
  b.exact = a.exact;
  return same_exact(x, a, b, "softmax with -inf at masked positions vs masked_softmax");
}

template <typename T>
Verdict fully_masked(const Implementation& impl, const Input<T>& in, Profile p) {
  const Ctx<T> x{impl, in, p};
  Case<T> c = x.make(Function::masked_softmax, in.z);
  c.keep.assign(in.z.size(), 0);
  fill_exact(c);
  const auto y = x.run(c);
  if (!y) return Verdict::skip("masked_softmax not provided");
  if (!allowed_when_nothing_attended(c, *y)) {
    return Verdict::fail(fmt::format("a fully masked row gave {}: DESIGN.md §2 allows all-NaN, all-zero or uniform; input {}",
                                     hex(*y), hex(in.z)));
  }
  return Verdict::pass();
}

// ---------------------------------------------------------------------------------------------
// Attention.

// The same problem with v = I (dv = lk): row i of the output is row i of the weights.
template <typename T>
Case<T> weights_case(const Ctx<T>& x) {
  Case<T> c = x.make(Function::attention, {});
  c.dv = c.lk;
  c.v.assign(c.lk * c.lk, T(0));
  for (std::size_t j = 0; j < c.lk; ++j) c.v[j * c.lk + j] = T(1);
  fill_exact(c);
  return c;
}

template <typename T>
Verdict attention_weights_sum_to_one(const Implementation& impl, const Input<T>& in, Profile p) {
  const Ctx<T> x{impl, in, p};
  if (in.lq == 0) return Verdict::skip("no attention problem");
  const Case<T> c = weights_case(x);
  const auto y = x.run(c);
  if (!y) return Verdict::skip("attention not provided");
  const std::vector<double> b = x.bound(c);
  for (std::size_t i = 0; i < c.lq; ++i) {
    Ld sum = 0, allowed = Ld(c.lk) * std::numeric_limits<Ld>::epsilon();
    for (std::size_t j = 0; j < c.lk; ++j) sum += (*y)[i * c.lk + j], allowed += absolute(c.exact[i * c.lk + j], b[i * c.lk + j]);
    if (beyond(std::fabs(sum - 1), allowed)) {
      return Verdict::fail(fmt::format("attention weights of query {} sum to 1 {:+.6Lg} (allowed {:.4Lg}); input {}", i, sum - 1,
                                       allowed, x.input()));
    }
  }
  return Verdict::pass();
}

template <typename T>
Verdict attention_scaled_by_sqrt_d(const Implementation& impl, const Input<T>& in, Profile p) {
  const Ctx<T> x{impl, in, p};
  if (in.lq == 0) return Verdict::skip("no attention problem");
  return agreement_of(x, weights_case(x), "attention weights softmax(q kᵀ / sqrt(d)) (v = I)");
}

template <typename T>
Verdict attention_convex(const Implementation& impl, const Input<T>& in, Profile p) {
  const Ctx<T> x{impl, in, p};
  if (in.lq == 0) return Verdict::skip("no attention problem");
  const Case<T> c = x.exact(Function::attention, {});
  const auto y = x.run(c);
  if (!y) return Verdict::skip("attention not provided");
  const std::vector<double> b = x.bound(c);
  for (std::size_t i = 0; i < c.lq; ++i) {
    const std::size_t keys = c.causal ? std::min(i + 1, c.lk) : c.lk;
    for (std::size_t col = 0; col < c.dv; ++col) {
      T lo = kInf<T>, hi = -kInf<T>;
      for (std::size_t j = 0; j < keys; ++j) lo = std::min(lo, c.v[j * c.dv + col]), hi = std::max(hi, c.v[j * c.dv + col]);
      const Ld allowed = tolerance(absolute(c.exact[i * c.dv + col], b[i * c.dv + col]));
      const Ld o = (*y)[i * c.dv + col];
      if (!(o >= Ld(lo) - allowed && o <= Ld(hi) + allowed)) {
        return Verdict::fail(fmt::format("attention out[{}][{}] = {:a} is outside [{:a}, {:a}], the values it averages; input {}", i,
                                         col, (*y)[i * c.dv + col], lo, hi, x.input()));
      }
    }
  }
  return Verdict::pass();
}

// Causal: keys and values after position i never change output row i.
template <typename T>
Verdict attention_causal(const Implementation& impl, const Input<T>& in, Profile p) {
  const Ctx<T> x{impl, in, p};
  if (in.lq == 0) return Verdict::skip("no attention problem");
  Case<T> a = x.make(Function::attention, {});
  a.causal = true;
  fill_exact(a);
  const std::size_t row = std::min(a.lq, a.lk) / 2;  // rows <= row must not see keys > row
  Case<T> b = a;
  for (std::size_t j = row + 1; j < b.lk; ++j) {
    for (std::size_t c = 0; c < b.d; ++c) b.k[j * b.d + c] = -b.k[j * b.d + c] * T(3) + T(1);
    for (std::size_t c = 0; c < b.dv; ++c) b.v[j * b.dv + c] = b.v[j * b.dv + c] * T(-2) + T(5);
  }
  const auto ya = x.run(a), yb = x.run(b);
  if (!ya || !yb) return Verdict::skip("attention not provided");
  for (std::size_t i = 0; i <= row && i < a.lq; ++i) {
    if (std::memcmp(ya->data() + i * a.dv, yb->data() + i * a.dv, a.dv * sizeof(T)) != 0) {
      return Verdict::fail(fmt::format("causal attention row {} changed when keys/values after position {} changed; input {}", i, row,
                                       x.input()));
    }
  }
  return Verdict::pass();
}

// ---------------------------------------------------------------------------------------------
// Every kernel: batches, determinism, inputs left alone.

inline constexpr Function kRowFunctions[] = {Function::softmax,        Function::log_softmax,      Function::logsumexp,
                                             Function::softmax_temperature, Function::cross_entropy, Function::cross_entropy_grad,
                                             Function::softmax_backward, Function::masked_softmax};

// The inputs of the row kernels for `rows` rows derived from one Input (labels, mask and dy per
// row), held as copies: the kernel receives pointers into them, so one that writes its inputs
// shows in them.
template <typename T>
struct RowBuffers {
  std::vector<T> z, dy;
  std::vector<std::int64_t> labels;
  std::vector<std::uint8_t> keep;
  std::size_t rows = 1;
  T t = 1;

  static RowBuffers of(const Input<T>& in, std::size_t rows) {
    RowBuffers b;
    const std::size_t n = in.z.size() / rows;
    b.z = in.z, b.rows = rows, b.t = in.t;
    b.dy.resize(rows * n);
    b.keep.resize(rows * n);
    b.labels.resize(rows);
    for (std::size_t i = 0; i < rows * n; ++i) {
      b.dy[i] = i < in.dy.size() ? in.dy[i] : static_cast<T>(static_cast<int>(i % 7) - 3);
      b.keep[i] = i < in.keep.size() ? in.keep[i] : static_cast<std::uint8_t>(i % 3 != 1);
    }
    for (std::size_t r = 0; r < rows; ++r) {
      b.labels[r] = r < in.labels.size() && in.labels[r] >= 0 ? in.labels[r] % static_cast<std::int64_t>(n)
                                                              : static_cast<std::int64_t>(r % n);
    }
    return b;
  }

  // Row r of a batch, as a one-row problem.
  RowBuffers row(std::size_t r) const {
    const std::size_t n = z.size() / rows;
    RowBuffers b;
    b.z.assign(z.begin() + r * n, z.begin() + (r + 1) * n);
    b.dy.assign(dy.begin() + r * n, dy.begin() + (r + 1) * n);
    b.keep.assign(keep.begin() + r * n, keep.begin() + (r + 1) * n);
    b.labels = {labels[r]};
    b.t = t;
    return b;
  }

  bool operator==(const RowBuffers& o) const {
    return same_bits(z, o.z) && same_bits(dy, o.dy) && labels == o.labels && keep == o.keep;
  }

  int call(const Implementation& impl, Function f, std::vector<T>& out) {
    const TypedKernels<T>& k = impl.kernels<T>();
    const std::size_t n = z.size() / rows;
    const std::size_t count = f == Function::logsumexp || f == Function::cross_entropy ? rows : rows * n;
    return call_guarded(out, count, [&](T* y) {
      switch (f) {
        case Function::softmax: return k.softmax(z.data(), y, rows, n);
        case Function::log_softmax: return k.log_softmax(z.data(), y, rows, n);
        case Function::logsumexp: return k.logsumexp(z.data(), y, rows, n);
        case Function::softmax_temperature: return k.softmax_temperature(z.data(), y, rows, n, t);
        case Function::cross_entropy: return k.cross_entropy(z.data(), labels.data(), y, rows, n);
        case Function::cross_entropy_grad: return k.cross_entropy_grad(z.data(), labels.data(), y, rows, n);
        case Function::softmax_backward: return k.softmax_backward(z.data(), dy.data(), y, rows, n);
        case Function::masked_softmax: return k.masked_softmax(z.data(), keep.data(), y, rows, n);
        default: return int(SOFTCERT_ERR_UNSUPPORTED);
      }
    });
  }
};

// Runs check(f, buffers, out) after calling every row kernel impl provides and accepts on the
// `rows` rows of `in`; the first failing check is the verdict, and skip when no kernel ran.
template <typename T, typename Check>
Verdict each_row_kernel(const Implementation& impl, const Input<T>& in, std::size_t rows, Check check) {
  bool ran = false;
  for (Function f : kRowFunctions) {
    if (!provides<T>(impl, f)) continue;
    RowBuffers<T> b = RowBuffers<T>::of(in, rows);
    std::vector<T> out;
    if (b.call(impl, f, out) != SOFTCERT_OK) continue;
    ran = true;
    if (Verdict v = check(f, b, out); v.failed()) return v;
  }
  return ran ? Verdict::pass() : Verdict::skip("no row kernel");
}

template <typename T>
Verdict row_independence(const Implementation& impl, const Input<T>& in, Profile) {
  const std::size_t rows = in.rows;
  if (rows < 2 || in.z.size() % rows != 0) return Verdict::skip("needs a batch");
  const RowBuffers<T> batch = RowBuffers<T>::of(in, rows);
  return each_row_kernel(impl, in, rows, [&](Function f, const RowBuffers<T>&, const std::vector<T>& out) {
    const std::size_t per = out.size() / rows;
    for (std::size_t r = 0; r < rows; ++r) {
      RowBuffers<T> one = batch.row(r);
      std::vector<T> single;
      if (one.call(impl, f, single) != SOFTCERT_OK) {
        return Verdict::fail(fmt::format("{} declined one row of a batch it accepted", function_name(f)));
      }
      const std::vector<T> in_batch(out.begin() + r * per, out.begin() + (r + 1) * per);
      if (!same_bits(single, in_batch)) {
        return Verdict::fail(fmt::format("{}: row {} of a {} × {} batch differs from the row alone ({} vs {}); batch {}",
                                         function_name(f), r, rows, in.z.size() / rows, hex(in_batch), hex(single), hex(in.z)));
      }
    }
    return Verdict::pass();
  });
}

template <typename T>
Verdict determinism(const Implementation& impl, const Input<T>& in, Profile) {
  return each_row_kernel(impl, in, 1, [&](Function f, const RowBuffers<T>&, const std::vector<T>& first) {
    RowBuffers<T> again = RowBuffers<T>::of(in, 1);
    std::vector<T> second;
    if (again.call(impl, f, second) == SOFTCERT_OK && !same_bits(first, second)) {
      return Verdict::fail(fmt::format("{} gave {} and then {} for the same input {}", function_name(f), hex(first), hex(second),
                                       hex(in.z)));
    }
    return Verdict::pass();
  });
}

template <typename T>
Verdict input_unchanged(const Implementation& impl, const Input<T>& in, Profile) {
  const RowBuffers<T> original = RowBuffers<T>::of(in, 1);
  return each_row_kernel(impl, in, 1, [&](Function f, const RowBuffers<T>& after, const std::vector<T>&) {
    if (!(after == original)) {
      return Verdict::fail(fmt::format("{} changed its input: {} became {}", function_name(f), hex(original.z), hex(after.z)));
    }
    return Verdict::pass();
  });
}

// A kernel that writes outside its output fails whichever property caught it doing so.
template <typename T, PropertyCheck<T> F>
Verdict guarded(const Implementation& impl, const Input<T>& in, Profile p) {
  try {
    return F(impl, in, p);
  } catch (const KernelMisbehaved& e) {
    return Verdict::fail(std::string("a kernel ") + e.what() + "; input " + describe(in));
  }
}

}  // namespace

template <typename T>
const std::vector<Property<T>>& catalogue() {
  using K = InputKind;
  static const std::vector<Property<T>> all = {
      {{"softmax.oracle_agreement", "p_i = exp(z_i) / Σ exp(z_j), correctly rounded, within the a-priori bound", K::finite_row},
       &guarded<T, &oracle_agreement<T, Function::softmax>>},
      {{"log_softmax.oracle_agreement", "log p_i = z_i - log Σ exp(z_j)", K::finite_row}, &guarded<T, &oracle_agreement<T, Function::log_softmax>>},
      {{"logsumexp.oracle_agreement", "lse(z) = m + log Σ exp(z_j - m)", K::finite_row}, &guarded<T, &oracle_agreement<T, Function::logsumexp>>},
      {{"softmax_temperature.oracle_agreement", "softmax_T(z)_i = exp(z_i / T) / Σ exp(z_j / T)", K::finite_row},
       &guarded<T, &oracle_agreement<T, Function::softmax_temperature>>},
      {{"sigmoid.oracle_agreement", "σ(x) = 1 / (1 + exp(-x))", K::finite_row}, &guarded<T, &oracle_agreement<T, Function::sigmoid>>},
      {{"cross_entropy.oracle_agreement", "L = log Σ exp(z_j) - z_y", K::finite_row}, &guarded<T, &oracle_agreement<T, Function::cross_entropy>>},
      {{"cross_entropy_grad.oracle_agreement", "∂L/∂z_i = p_i - 1[i = y]", K::finite_row},
       &guarded<T, &oracle_agreement<T, Function::cross_entropy_grad>>},
      {{"softmax_backward.oracle_agreement", "dx = (diag(p) - p pᵀ) dy", K::finite_row},
       &guarded<T, &oracle_agreement<T, Function::softmax_backward>>},
      {{"masked_softmax.oracle_agreement", "softmax over the kept entries, 0 elsewhere", K::masked_row},
       &guarded<T, &oracle_agreement<T, Function::masked_softmax>>},
      {{"attention.oracle_agreement", "o = Σ_i α_i v_i with α = softmax(q·k_i / √d)", K::attention},
       &guarded<T, &oracle_agreement<T, Function::attention>>},
      {{"softmax.special_values", "DESIGN.md §2: NaN, +inf, -inf and fully masked rows", K::any_row}, &guarded<T, &special_values<T, Function::softmax>>},
      {{"log_softmax.special_values", "DESIGN.md §2 for log_softmax", K::any_row}, &guarded<T, &special_values<T, Function::log_softmax>>},
      {{"logsumexp.special_values", "DESIGN.md §2 for log-sum-exp", K::any_row}, &guarded<T, &special_values<T, Function::logsumexp>>},
      {{"cross_entropy.special_values", "DESIGN.md §2 for cross-entropy", K::any_row}, &guarded<T, &special_values<T, Function::cross_entropy>>},
      {{"softmax.range", "0 < p_i < 1 for all i (because exp(·) > 0)", K::finite_row}, &guarded<T, &softmax_range<T>>},
      {{"log_softmax.range", "log p_i <= 0", K::finite_row}, &guarded<T, &log_softmax_range<T>>},
      {{"kernel.finite_in_no_nan", "finite inputs never give NaN (DESIGN.md §2)", K::finite_row}, &guarded<T, &finite_in_no_nan<T>>},
      {{"softmax.sum_to_one", "Σ p_i = 1 (because you divide by the sum)", K::finite_row}, &guarded<T, &sum_to_one<T>>},
      {{"softmax.shift_invariance", "softmax(z + c) = softmax(z): adding a constant to every logit changes nothing", K::finite_row},
       &guarded<T, &shift_invariance<T, Function::softmax>>},
      {{"logsumexp.shift", "log Σ exp(z_j + c) = c + log Σ exp(z_j)", K::finite_row}, &guarded<T, &logsumexp_shift<T>>},
      {{"cross_entropy.shift_invariance", "the loss is shift-invariant too", K::finite_row}, &guarded<T, &shift_invariance<T, Function::cross_entropy>>},
      {{"softmax.ratio", "p_i / p_j = exp(z_i - z_j)", K::finite_row}, &guarded<T, &softmax_ratio<T>>},
      {{"softmax.monotone", "if z_i is bigger, p_i is bigger; equal logits give equal probabilities", K::finite_row},
       &guarded<T, &softmax_monotone<T>>},
      {{"softmax.permutation", "softmax(πz) = π softmax(z): only the values matter, not their order", K::finite_row},
       &guarded<T, &softmax_permutation<T>>},
      {{"sigmoid.two_class_softmax", "K = 2: softmax([a, b])_0 = σ(a - b)", K::pair}, &guarded<T, &sigmoid_two_class<T>>},
      {{"sigmoid.symmetry", "σ(x) + σ(-x) = 1", K::finite_row}, &guarded<T, &sigmoid_symmetry<T>>},
      {{"sigmoid.monotone", "σ is increasing", K::finite_row}, &guarded<T, &sigmoid_monotone<T>>},
      {{"softmax_temperature.zero_limit", "as T -> 0+, p_k -> 1 at the argmax and all others -> 0 (ties split)", K::finite_row},
       &guarded<T, &temperature_zero<T>>},
      {{"softmax_temperature.infinite_limit", "as T -> inf, softmax becomes uniform", K::finite_row}, &guarded<T, &temperature_infinite<T>>},
      {{"softmax_temperature.entropy_monotone", "raising T flattens the distribution: entropy does not decrease", K::finite_row},
       &guarded<T, &temperature_entropy<T>>},
      {{"softmax_temperature.one_is_softmax", "T = 1 is plain softmax", K::finite_row}, &guarded<T, &temperature_one<T>>},
      {{"logsumexp.between_max_and_max_plus_log_n", "max(z) <= lse(z) <= max(z) + log n", K::finite_row}, &guarded<T, &logsumexp_between<T>>},
      {{"log_softmax.is_z_minus_lse", "log p_i = z_i - log Σ exp(z_j)", K::finite_row}, &guarded<T, &log_softmax_is_z_minus_lse<T>>},
      {{"log_softmax.exp_is_softmax", "exp(log_softmax) = softmax", K::finite_row}, &guarded<T, &exp_log_softmax_is_softmax<T>>},
      {{"log_softmax.no_underflow", "computing log-softmax directly avoids log(softmax) underflowing to -inf", K::finite_row},
       &guarded<T, &log_softmax_no_underflow<T>>},
      {{"cross_entropy.nonnegative", "L = -log p_y >= 0", K::finite_row}, &guarded<T, &cross_entropy_nonnegative<T>>},
      {{"cross_entropy.is_lse_minus_zy", "L = log Σ exp(z_j) - z_y", K::finite_row}, &guarded<T, &cross_entropy_is_lse_minus_zy<T>>},
      {{"cross_entropy_grad.sums_to_zero", "Σ_i (p_i - 1[i = y]) = 0", K::finite_row}, &guarded<T, &grad_sums_to_zero<T>>},
      {{"softmax_backward.jacobian_rows_sum_to_zero", "rows of diag(p) - p pᵀ sum to 0", K::finite_row}, &guarded<T, &backward_constant_dy<T>>},
      {{"masked_softmax.masked_are_zero", "softmax assigns 0 probability to masked positions (exp(-inf) = 0)", K::masked_row},
       &guarded<T, &masked_are_zero<T>>},
      {{"masked_softmax.kept_is_softmax_of_kept", "kept positions get softmax over the kept entries", K::masked_row},
       &guarded<T, &masked_is_softmax_of_kept<T>>},
      {{"masked_softmax.neg_inf_is_masking", "scores_i + (-inf) masks position i", K::masked_row}, &guarded<T, &neg_inf_is_masking<T>>},
      {{"masked_softmax.fully_masked", "DESIGN.md §2: a row with nothing kept is all NaN, all 0 or uniform", K::masked_row},
       &guarded<T, &fully_masked<T>>},
      {{"attention.weights_sum_to_one", "attention weights are nonnegative and sum to 1", K::attention},
       &guarded<T, &attention_weights_sum_to_one<T>>},
      {{"attention.convex_combination", "attention is a convex combination of value vectors", K::attention}, &guarded<T, &attention_convex<T>>},
      {{"attention.scaled_by_sqrt_d", "scores_i = (q · k_i) / √d", K::attention}, &guarded<T, &attention_scaled_by_sqrt_d<T>>},
      {{"attention.causal", "a causal mask hides future positions: they cannot change the output", K::attention},
       &guarded<T, &attention_causal<T>>},
      {{"kernel.row_independence", "each row of a batch is its own softmax", K::batch}, &guarded<T, &row_independence<T>>},
      {{"kernel.determinism", "the same input twice gives the same bits", K::finite_row}, &guarded<T, &determinism<T>>},
      {{"kernel.input_unchanged", "a kernel never changes its inputs (DESIGN.md §3)", K::finite_row}, &guarded<T, &input_unchanged<T>>},
  };
  return all;
}

template <typename T>
const Property<T>* find_property(const std::string& name) {
  for (const Property<T>& p : catalogue<T>()) {
    if (p.info.name == name) return &p;
  }
  return nullptr;
}

template <typename T>
std::string describe(const Input<T>& in) {
  if (in.lq > 0) {
    return fmt::format("attention lq={} lk={} d={} dv={} causal={} q={} k={} v={}", in.lq, in.lk, in.d, in.dv, in.causal,
                       hex(in.q), hex(in.k), hex(in.v));
  }
  std::string s = fmt::format("z={}", hex(in.z));
  if (in.rows > 1) s += fmt::format(" rows={}", in.rows);
  if (!in.labels.empty()) s += fmt::format(" label={}", in.labels[0]);
  if (in.c != 0) s += fmt::format(" c={:a}", in.c);
  if (in.t != 1) s += fmt::format(" t={:a}", in.t);
  if (!in.keep.empty()) {
    s += " keep=";
    for (auto k : in.keep) s += k ? '1' : '0';
  }
  if (!in.dy.empty()) s += " dy=" + hex(in.dy);
  return s;
}

template <typename T>
std::vector<Input<T>> special_inputs() {
  const T inf = std::numeric_limits<T>::infinity(), nan = std::numeric_limits<T>::quiet_NaN();
  const T big = std::numeric_limits<T>::max(), tiny = std::numeric_limits<T>::denorm_min();
  const std::vector<std::vector<T>> rows = {
      {nan}, {nan, 0}, {0, nan, 1}, {nan, inf}, {nan, -inf},
      {inf}, {inf, 0}, {0, inf}, {inf, inf, 1}, {inf, -inf}, {inf, big},
      {-inf}, {-inf, -inf}, {-inf, -inf, -inf, -inf}, {-inf, 0, 1}, {1, -inf},
      {big, big}, {-big, 0}, {big, -big}, {T(-0.0), T(0.0)}, {tiny, 0, -tiny}, {0, 0, 0, 0, 0, 0, 0, 0, 0}};
  std::vector<Input<T>> out;
  for (const std::vector<T>& z : rows) {
    Input<T> in;
    in.z = z;
    out.push_back(in);
  }
  return out;
}

#define SOFTCERT_CATALOGUE_INSTANTIATE(T)                                  \
  template std::vector<Input<T>> special_inputs<T>();                      \
  template const std::vector<Property<T>>& catalogue<T>();                 \
  template const Property<T>* find_property<T>(const std::string&);        \
  template std::string describe<T>(const Input<T>&);

SOFTCERT_CATALOGUE_INSTANTIATE(float)
SOFTCERT_CATALOGUE_INSTANTIATE(double)

}  // namespace softcert::properties

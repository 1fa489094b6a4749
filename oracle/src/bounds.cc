// A-priori error bounds (bounds.hpp), evaluated per input.
//
// Notation (bounds.hpp): u = 2^-p, φ = function_ulps · 2u (a faithful exp/log), η the smallest
// subnormal, γ_k = k u / (1 - k u). For a row z with max m (over its finite entries) let
// d_i = z_i - m <= 0, a_i = d_i / t (t = 1 without temperature), S = Σ_j exp(a_j) >= 1 and
// w_i = exp(a_i) / S the exact probabilities. Quantities are evaluated in long double, whose 64-bit
// significand gives each bound to a relative accuracy far below what it bounds.
//
// Standard algorithm (lib's `stable`, the tutorial's):
//   â_i  = fl(z_i - m) [/ t]          |â_i - a_i| <= γ_k |a_i|, k = 1 (2 with temperature)
//   ê_i  = fl(exp(â_i))               ê_i = exp(a_i) (1 + θ_i),
//                                     1 + θ_i <= (1 + φ) exp(γ_k |a_i|)            (1)
//   Ŝ    = Σ ê_j, recursive            Ŝ = S (1 + σ), |σ| <= Σ_j w_j [(1 + θ_j)(1 + γ_{n-1}) - 1] (2)
//   p̂_i  = fl(ê_i / Ŝ)                 |p̂_i - w_i| <= w_i [(1 + θ_i)(1 + u) / (1 - σ) - 1] + η  (3)
// (1)-(3) are Blanchard, Higham & Higham's Lemma/Theorem for the shifted softmax, with their
// worst-case max |a_i| replaced by this row's values; η covers ê_i and p̂_i landing among the
// subnormals (each rounding there is off by at most η/2 absolutely). For |a_i| large, (1) is
// evaluated as exp(a_i (1 - γ_k)) (1 + φ), which is the same number and cannot overflow.
//
//   log Ŝ = log S + log(1 + σ),        |log(1 + σ)| <= λ := -log(1 - σ)
//   L̂    = fl(log Ŝ)                   |L̂ - log S| <= λ + φ (log S + λ)                      (4)
//   lse  = fl(m + L̂)                   |lse^ - lse| <= (4)(1 + u) + u |lse|                 (5)
//   ls_i = fl(â_i - L̂)                 |ls^_i - ls_i| <= (γ_k |a_i| + (4))(1 + u) + u |ls_i| (6)
// (5) and (6) are absolute: where log p_i ≈ 0 or lse ≈ 0 the ULP bound is large, which is the
// conditioning of the problem for this algorithm, not slack.
//
//   cross_entropy = fl(lse^ - z_y):    (5)(1 + u) + u |L|                                    (7)
//   grad_i = fl(p̂_i - [i = y]):        (3) for i != y; (3)(1 + u) + u |g_y| for i = y         (8)
//     with p̂_i from either standard formulation: softmax as (3), or autograd's exp(log_softmax),
//     p̂_i = fl(exp(ls^_i)) with |ls^_i - ls_i| <= B_i of (6): |p̂_i - w_i| <= w_i[(1 + φ) e^B_i - 1] + η;
//     (8) takes the larger, so both count as correct.                                         (8')
//   sigmoid, x >= 0: fl(1 / fl(1 + fl(exp(-x)))); x < 0: fl(e / fl(1 + e)), e = fl(exp(x)).
//     With e <= 1 in both branches the perturbation of 1 + e is at most φ e / (1 + e) <= φ / 2:
//     relative error <= (1 + φ)^[x<0] (1 + u) / ((1 - φ/2)(1 - u)) - 1, plus η.             (9)
//   softmax_backward dx_i = fl(y_i fl(dy_i - ŝ)), ŝ = Σ y_j dy_j recursive:
//     |dx^_i - dx_i| <= |y_i| (γ_n Σ_j |y_j dy_j| (1 + u) + u |dy_i - s| + (n + 1) η)(1 + u)
//                       + u |dx_i| + η                                                        (10)
//   attention: scores ŝ_j = fl(fl(q·k_j) / fl(√d)), |ŝ_j - s_j| <= ε_j :=
//     γ_d Σ_c |q_c k_jc| / √d (1 + γ_2) + γ_2 |s_j|; the softmax of the scores as (1)-(3) with
//     γ_k |a_j| replaced by ε_j + ε_max + u(|d_j| + ε_j + ε_max); out_c = Σ_j α̂_j v_jc recursive:
//     |out^_c - out_c| <= Σ_j |v_jc| [A_j (1 + γ_lk) + w_j γ_lk] + (lk + 1) η, A_j the bound (3)
//     (η included: a weight flushed to 0 loses w_j |v_jc|, however large v_jc is).           (11)
//
// Online algorithm (running max m_k, s_k = s_{k-1} exp(m_{k-1} - m_k) + exp(z_k - m_k)): every
// rescaling multiplies the partial sum once more by a factor with relative error <= φ + 2u + u·Δ
// (Δ the max's increase), so σ in (2) grows by R (φ + 2u) + u (m - m_first), R the number of
// times the running max increases and m_first the first finite entry.                      (12)
#include <algorithm>
#include <cmath>
#include <limits>

#include "softcert/bounds.hpp"

namespace softcert::oracle {
namespace {

using Ld = long double;

// The model's constants for results of the format f (T's own, or a reduced format whose values T
// carries): u = 2^-p, φ, η = f's smallest subnormal; bounds come out in ULPs of f.
template <typename T>
struct Model {
  const FloatFormat& format;
  Ld u;
  Ld phi;
  Ld eta;
  explicit Model(const BoundModel& m, const FloatFormat& f = format_of<T>())
      : format(f), u(std::ldexp(Ld(1), -f.digits)), phi(Ld(m.function_ulps) * 2 * u), eta(f.denorm_min()) {}
  // γ_k; +inf where k u >= 1: the analysis of a k-term sum bounds nothing there (a bf16 sum of
  // 10^5 terms can stall at any value).
  Ld gamma(std::size_t k) const {
    return Ld(k) * u < 1 ? Ld(k) * u / (1 - Ld(k) * u) : std::numeric_limits<Ld>::infinity();
  }
  double in_ulps(Ld absolute, const Exact<T>& exact) const {
    if (!std::isfinite(exact.value)) return 0.0;
    return static_cast<double>(absolute / Ld(ulp_of(exact.hi, format)));
  }
};

// The per-row quantities of (1)-(4) and (12) for the finite entries of a row.
struct SoftmaxAnalysis {
  bool regular = false;         // no NaN, no +inf, at least one finite entry
  std::vector<bool> zero;       // entry is -inf (output exact)
  std::vector<Ld> a;            // a_i
  std::vector<Ld> w;            // exact probabilities
  std::vector<Ld> perturbed;    // exp(a_i)(1 + θ_i) / S, by (1)
  Ld log_sum = 0;               // log S
  Ld sigma = 0;                 // (2), plus (12) for online
  Ld lambda = 0;                // -log(1 - σ)
  bool unbounded = false;       // σ >= 1/2: the model gives no bound for this row (+inf)
};

// `a_error_gamma`: the γ factor of |â_i - a_i| <= γ |a_i|; `extra_a_error`: an absolute
// error added per entry (attention's score errors).
template <typename T>
SoftmaxAnalysis analyse(std::span<const T> z, Ld t, Ld a_error_gamma, const Model<T>& mdl,
                        const BoundModel& model, std::span<const Ld> extra_a_error = {}) {
  SoftmaxAnalysis s;
  const std::size_t n = z.size();
  s.zero.assign(n, false);
  Ld m = -std::numeric_limits<Ld>::infinity();
  for (std::size_t i = 0; i < n; ++i) {
    if (std::isnan(z[i]) || z[i] == std::numeric_limits<T>::infinity()) return s;
    if (z[i] == -std::numeric_limits<T>::infinity()) s.zero[i] = true;
    else m = std::max(m, Ld(z[i]));
  }
  if (std::isinf(m)) return s;  // only -inf: every output exact
  s.regular = true;
  s.a.assign(n, 0);
  s.w.assign(n, 0);
  s.perturbed.assign(n, 0);
  Ld sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (s.zero[i]) continue;
    s.a[i] = (Ld(z[i]) - m) / t;
    sum += std::exp(s.a[i]);
  }
  s.log_sum = std::log(sum);
  std::size_t kept = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (s.zero[i]) continue;
    ++kept;
    s.w[i] = std::exp(s.a[i]) / sum;
    const Ld extra = extra_a_error.empty() ? Ld(0) : extra_a_error[i];
    s.perturbed[i] = std::exp(s.a[i] * (1 - a_error_gamma) + extra) * (1 + mdl.phi) / sum;  // (1)
  }
  for (std::size_t j = 0; j < n; ++j) {
    if (!s.zero[j]) s.sigma += s.perturbed[j] * (1 + mdl.gamma(kept - 1)) - s.w[j];  // (2)
  }
  if (model.algorithm == Algorithm::online) {  // (12)
    std::size_t rises = 0;
    Ld running = -std::numeric_limits<Ld>::infinity(), first = running;
    for (std::size_t i = 0; i < n; ++i) {
      if (s.zero[i]) continue;
      if (std::isinf(first)) first = running = Ld(z[i]);
      else if (Ld(z[i]) > running) running = Ld(z[i]), ++rises;
    }
    s.sigma += Ld(rises) * (mdl.phi + 2 * mdl.u) + mdl.u * (m - first) / t;
  }
  s.unbounded = !(s.sigma < 0.5);  // beyond this the bound says nothing useful anyway
  s.sigma = std::min<Ld>(s.sigma, 0.5);
  s.lambda = -std::log1p(-s.sigma);
  return s;
}

template <typename T>
Ld softmax_absolute(const SoftmaxAnalysis& s, std::size_t i, const Model<T>& mdl) {
  if (s.unbounded) return std::numeric_limits<Ld>::infinity();
  return std::fabs(s.perturbed[i] * (1 + mdl.u) / (1 - s.sigma) - s.w[i]) + mdl.eta;  // (3)
}

template <typename T>
Ld log_sum_absolute(const SoftmaxAnalysis& s, const Model<T>& mdl) {
  if (s.unbounded) return std::numeric_limits<Ld>::infinity();
  return s.lambda + mdl.phi * (std::fabs(s.log_sum) + s.lambda);  // (4)
}

template <typename T>
std::vector<double> softmax_bounds(const SoftmaxAnalysis& s, std::span<const Exact<T>> exact,
                                   const Model<T>& mdl) {
  std::vector<double> b(exact.size(), 0.0);
  if (!s.regular) return b;
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (!s.zero[i]) b[i] = mdl.in_ulps(softmax_absolute(s, i, mdl), exact[i]);
  }
  return b;
}

}  // namespace


template <typename T>
std::vector<double> softmax_temperature_bound(std::span<const T> z, T t,
                                              std::span<const Exact<T>> exact, BoundModel model) {
  const Model<T> mdl(model);
  return softmax_bounds(analyse(z, Ld(t), mdl.gamma(2), mdl, model), exact, mdl);
}

namespace {

// (1)-(3) and (6) for results in the format f (T's own or a reduced one T carries).
template <typename T>
std::vector<double> softmax_bound_in(std::span<const T> z, std::span<const Exact<T>> exact,
                                     BoundModel model, const FloatFormat& f) {
  const Model<T> mdl(model, f);
  return softmax_bounds(analyse(z, 1, mdl.gamma(1), mdl, model), exact, mdl);
}

template <typename T>
std::vector<double> log_softmax_bound_in(std::span<const T> z, std::span<const Exact<T>> exact,
                                         BoundModel model, const FloatFormat& f) {
  const Model<T> mdl(model, f);
  const SoftmaxAnalysis s = analyse(z, 1, mdl.gamma(1), mdl, model);
  std::vector<double> b(z.size(), 0.0);
  if (!s.regular) return b;
  const Ld log_sum_error = log_sum_absolute(s, mdl);
  for (std::size_t i = 0; i < z.size(); ++i) {
    if (s.zero[i]) continue;
    const Ld value = s.a[i] - s.log_sum;
    b[i] = mdl.in_ulps((mdl.gamma(1) * std::fabs(s.a[i]) + log_sum_error) * (1 + mdl.u) +
                       mdl.u * std::fabs(value),
                   exact[i]);  // (6)
  }
  return b;
}

}  // namespace

template <typename T>
std::vector<double> softmax_bound(std::span<const T> z, std::span<const Exact<T>> exact,
                                  BoundModel model) {
  return softmax_bound_in(z, exact, model, format_of<T>());
}

std::vector<double> softmax_bound(std::span<const float> z, std::span<const Exact<float>> exact,
                                  const FloatFormat& format, BoundModel model) {
  return softmax_bound_in(z, exact, model, format);
}

template <typename T>
std::vector<double> log_softmax_bound(std::span<const T> z, std::span<const Exact<T>> exact,
                                      BoundModel model) {
  return log_softmax_bound_in(z, exact, model, format_of<T>());
}

std::vector<double> log_softmax_bound(std::span<const float> z, std::span<const Exact<float>> exact,
                                      const FloatFormat& format, BoundModel model) {
  return log_softmax_bound_in(z, exact, model, format);
}

namespace {
template <typename T>
Ld lse_absolute(const SoftmaxAnalysis& s, std::span<const T> z, const Model<T>& mdl) {
  Ld m = -std::numeric_limits<Ld>::infinity();
  for (std::size_t i = 0; i < z.size(); ++i) if (!s.zero[i]) m = std::max(m, Ld(z[i]));
  return log_sum_absolute(s, mdl) * (1 + mdl.u) + mdl.u * std::fabs(m + s.log_sum);  // (5)
}
}  // namespace

template <typename T>
double logsumexp_bound(std::span<const T> z, const Exact<T>& exact, BoundModel model) {
  const Model<T> mdl(model);
  const SoftmaxAnalysis s = analyse(z, 1, mdl.gamma(1), mdl, model);
  return s.regular ? mdl.in_ulps(lse_absolute(s, z, mdl), exact) : 0.0;
}

template <typename T>
double sigmoid_bound(T x, const Exact<T>& exact, BoundModel model) {
  const Model<T> mdl(model);
  if (!std::isfinite(x)) return 0.0;
  const Ld growth = x < 0 ? 1 + mdl.phi : 1;
  const Ld relative = growth * (1 + mdl.u) / ((1 - mdl.phi / 2) * (1 - mdl.u)) - 1;  // (9)
  return mdl.in_ulps(relative * std::fabs(Ld(exact.hi)) + mdl.eta, exact);
}

template <typename T>
double cross_entropy_bound(std::span<const T> z, std::size_t label, const Exact<T>& exact,
                           BoundModel model) {
  const Model<T> mdl(model);
  const SoftmaxAnalysis s = analyse(z, 1, mdl.gamma(1), mdl, model);
  if (!s.regular || s.zero[label]) return 0.0;
  return mdl.in_ulps(lse_absolute(s, z, mdl) * (1 + mdl.u) + mdl.u * std::fabs(Ld(exact.hi)), exact);  // (7)
}

template <typename T>
std::vector<double> cross_entropy_grad_bound(std::span<const T> z, std::size_t label,
                                             std::span<const Exact<T>> exact, BoundModel model) {
  const Model<T> mdl(model);
  const SoftmaxAnalysis s = analyse(z, 1, mdl.gamma(1), mdl, model);
  std::vector<double> b(z.size(), 0.0);
  if (!s.regular) return b;
  const Ld log_sum_error = log_sum_absolute(s, mdl);
  for (std::size_t i = 0; i < z.size(); ++i) {
    if (s.zero[i]) continue;
    const Ld log_p = (mdl.gamma(1) * std::fabs(s.a[i]) + log_sum_error) * (1 + mdl.u) +
                     mdl.u * std::fabs(s.a[i] - s.log_sum);                          // (6)
    const Ld via_log = s.w[i] * ((1 + mdl.phi) * std::exp(log_p) - 1) + mdl.eta;  // (8')
    const Ld p = std::max(softmax_absolute(s, i, mdl), via_log);
    b[i] = mdl.in_ulps(i == label ? p * (1 + mdl.u) + mdl.u * std::fabs(Ld(exact[i].hi)) : p, exact[i]);  // (8)
  }
  return b;
}

template <typename T>
std::vector<double> softmax_backward_bound(std::span<const T> y, std::span<const T> dy,
                                           std::span<const Exact<T>> exact, BoundModel model) {
  const Model<T> mdl(model);
  const std::size_t n = y.size();
  Ld s = 0, magnitude = 0;
  for (std::size_t j = 0; j < n; ++j) {
    s += Ld(y[j]) * Ld(dy[j]);
    magnitude += std::fabs(Ld(y[j]) * Ld(dy[j]));
  }
  std::vector<double> b(n);
  for (std::size_t i = 0; i < n; ++i) {
    // Products and partial sums among the subnormals are each off by up to η/2 besides.
    const Ld inner = mdl.gamma(n) * magnitude * (1 + mdl.u) + mdl.u * std::fabs(Ld(dy[i]) - s) + Ld(n + 1) * mdl.eta;
    b[i] = mdl.in_ulps(std::fabs(Ld(y[i])) * inner * (1 + mdl.u) + mdl.u * std::fabs(Ld(exact[i].hi)) + mdl.eta,
                   exact[i]);  // (10)
  }
  return b;
}

template <typename T>
std::vector<double> masked_softmax_bound(std::span<const T> z, std::span<const std::uint8_t> keep,
                                         std::span<const Exact<T>> exact, BoundModel model) {
  std::vector<T> kept;
  std::vector<Exact<T>> kept_exact;
  for (std::size_t i = 0; i < z.size(); ++i) {
    if (keep[i]) kept.push_back(z[i]), kept_exact.push_back(exact[i]);
  }
  std::vector<double> b(z.size(), 0.0);
  if (kept.empty()) return b;
  const std::vector<double> kb = softmax_bound<T>(kept, kept_exact, model);
  for (std::size_t i = 0, j = 0; i < z.size(); ++i) if (keep[i]) b[i] = kb[j++];
  return b;
}

template <typename T>
std::vector<double> attention_bound(std::span<const T> q, std::span<const T> k,
                                    std::span<const T> v, std::size_t lq, std::size_t lk,
                                    std::size_t d, std::size_t dv, bool causal,
                                    std::span<const Exact<T>> exact, BoundModel model) {
  const Model<T> mdl(model);
  std::vector<double> b(lq * dv, 0.0);
  const Ld root = std::sqrt(Ld(d));
  for (std::size_t i = 0; i < lq; ++i) {
    const std::size_t attended = causal ? std::min(i + 1, lk) : lk;
    std::vector<T> scores(attended);
    std::vector<Ld> error(attended);
    Ld worst = 0;
    for (std::size_t j = 0; j < attended; ++j) {
      Ld dot = 0, magnitude = 0;
      for (std::size_t c = 0; c < d; ++c) {
        dot += Ld(q[i * d + c]) * Ld(k[j * d + c]);
        magnitude += std::fabs(Ld(q[i * d + c]) * Ld(k[j * d + c]));
      }
      scores[j] = static_cast<T>(dot / root);
      error[j] = mdl.gamma(d) * magnitude / root * (1 + mdl.gamma(2)) + mdl.gamma(2) * std::fabs(dot / root);
      if (std::isfinite(scores[j])) worst = std::max(worst, error[j]);
    }
    // A score beyond T's range rounds to ±inf. −inf (with some score finite) gives a weight of
    // exactly 0, and the exact score lies at least half an ULP of T's largest value (2^103 for
    // f32) below the max, so the exact weight is far below the smallest subnormal: a zero entry
    // of (1). +inf, or every score −inf, leaves T unable to hold the problem at all: (11) does
    // not apply; the bound is +inf, which admits any finite output (oracle::within_bound).
    const T m = *std::max_element(scores.begin(), scores.end());
    if (!std::isfinite(m)) {
      std::fill(b.begin() + i * dv, b.begin() + (i + 1) * dv, std::numeric_limits<double>::infinity());
      continue;
    }
    // (11): score errors enter (1) as an absolute perturbation of a_j.
    std::vector<Ld> extra(attended);
    for (std::size_t j = 0; j < attended; ++j) {
      if (std::isfinite(scores[j])) extra[j] = error[j] + worst + mdl.u * (std::fabs(Ld(scores[j]) - Ld(m)) + error[j] + worst);
    }
    const SoftmaxAnalysis s = analyse<T>(scores, 1, 0, mdl, model, extra);
    if (!s.regular) continue;
    for (std::size_t c = 0; c < dv; ++c) {
      // Each weight's absolute error A_j (η included: a weight flushed to 0 loses w_j |v_j|,
      // which is large when v_j is) times |v_j|, the recursive sum's γ_lk, and the underflow of
      // the lk products.
      Ld absolute = Ld(lk + 1) * mdl.eta;
      for (std::size_t j = 0; j < attended; ++j) {
        if (s.zero[j] || v[j * dv + c] == 0) continue;  // adds nothing (and A_j may be +inf)
        const Ld a = softmax_absolute(s, j, mdl);
        absolute += std::fabs(Ld(v[j * dv + c])) * (a * (1 + mdl.gamma(lk)) + s.w[j] * mdl.gamma(lk));
      }
      b[i * dv + c] = mdl.in_ulps(absolute, exact[i * dv + c]);
    }
  }
  return b;
}

#define SOFTCERT_BOUNDS_INSTANTIATE(T)                                                              \
  template std::vector<double> softmax_bound<T>(std::span<const T>, std::span<const Exact<T>>,      \
                                                BoundModel);                                        \
  template std::vector<double> log_softmax_bound<T>(std::span<const T>,                             \
                                                    std::span<const Exact<T>>, BoundModel);         \
  template double logsumexp_bound<T>(std::span<const T>, const Exact<T>&, BoundModel);              \
  template std::vector<double> softmax_temperature_bound<T>(std::span<const T>, T,                  \
                                                            std::span<const Exact<T>>, BoundModel); \
  template double sigmoid_bound<T>(T, const Exact<T>&, BoundModel);                                 \
  template double cross_entropy_bound<T>(std::span<const T>, std::size_t, const Exact<T>&,          \
                                         BoundModel);                                               \
  template std::vector<double> cross_entropy_grad_bound<T>(std::span<const T>, std::size_t,         \
                                                           std::span<const Exact<T>>, BoundModel);  \
  template std::vector<double> softmax_backward_bound<T>(std::span<const T>, std::span<const T>,    \
                                                         std::span<const Exact<T>>, BoundModel);    \
  template std::vector<double> masked_softmax_bound<T>(std::span<const T>,                          \
                                                       std::span<const std::uint8_t>,               \
                                                       std::span<const Exact<T>>, BoundModel);      \
  template std::vector<double> attention_bound<T>(std::span<const T>, std::span<const T>,           \
                                                  std::span<const T>, std::size_t, std::size_t,     \
                                                  std::size_t, std::size_t, bool,                   \
                                                  std::span<const Exact<T>>, BoundModel);

SOFTCERT_BOUNDS_INSTANTIATE(float)
SOFTCERT_BOUNDS_INSTANTIATE(double)

}  // namespace softcert::oracle

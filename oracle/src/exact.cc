// Exact values of the softmax family (oracle.hpp), decided by the Ziv loop of multiprecision.hpp.
//
// Every row is first split into its special-value case (DESIGN.md §2, strict profile) and, for the
// regular case, the EXACT shifts d_i = z_i - max z of its finite entries. Only then does
// interval arithmetic start: e_i = exp(d_i [/ t]), S = Σ e_i, and each output is one formula of
// those enclosures. The formulas are chosen so that a rational result is computed from points
// (ties give d_i = 0 exactly, so e_i = 1 exactly): such a result may sit exactly on a rounding
// midpoint, and only a point enclosure decides it. Transcendental results are never midpoints.
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>

#include "multiprecision.hpp"
#include "softcert/oracle.hpp"

namespace softcert::oracle {
namespace {

using mp::Interval;
using mp::Real;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

template <typename T>
using Outputs = std::vector<std::optional<Exact<T>>>;

// A row of logits with its special values resolved.
struct Row {
  enum class Case { nan, pos_inf, all_neg_inf, regular } kind = Case::regular;
  std::size_t pos_inf = 0;        // number of +inf entries (Case::pos_inf)
  std::vector<bool> neg_inf;      // entry i is -inf (contributes exactly 0)
  std::vector<bool> is_pos_inf;   // entry i is +inf
  Real max;                       // max z (Case::regular)
  std::vector<Real> shift;        // z_i - max z, exact (finite entries; unset otherwise)
  std::size_t argmax = 0;         // first index of the max (Case::regular)
  std::size_t finite = 0;         // number of finite entries
};

template <typename T>
Row classify(std::span<const T> z) {
  Row row;
  const std::size_t n = z.size();
  row.neg_inf.assign(n, false);
  row.is_pos_inf.assign(n, false);
  std::size_t neg = 0;
  bool nan = false;
  for (std::size_t i = 0; i < n; ++i) {
    if (std::isnan(z[i])) nan = true;
    else if (z[i] == std::numeric_limits<T>::infinity()) row.is_pos_inf[i] = true, ++row.pos_inf;
    else if (z[i] == -std::numeric_limits<T>::infinity()) row.neg_inf[i] = true, ++neg;
  }
  row.finite = n - neg - row.pos_inf;
  if (nan) row.kind = Row::Case::nan;
  else if (row.pos_inf > 0) row.kind = Row::Case::pos_inf;
  else if (neg == n) row.kind = Row::Case::all_neg_inf;
  if (row.kind != Row::Case::regular) return row;

  for (std::size_t i = 0; i < n; ++i) {
    if (!row.neg_inf[i] && (row.neg_inf[row.argmax] || z[i] > z[row.argmax])) row.argmax = i;
  }
  row.max = mp::exact(z[row.argmax]);
  row.shift.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (!row.neg_inf[i]) row.shift[i] = mp::exact_difference(mp::exact(z[i]), row.max);
  }
  return row;
}

// The enclosures shared by the softmax family at one working precision: the scaled shifts
// a_i = d_i / t (t = 1: the exact shift itself), e_i = exp(a_i) (exactly 0 for -inf entries),
// and S = Σ e_i.
struct Terms {
  std::vector<Interval> scaled;
  std::vector<Interval> e;
  Interval sum;
};

Terms terms(const Row& row, unsigned bits, const std::optional<Real>& t) {
  const std::size_t n = row.neg_inf.size();
  Terms out;
  out.scaled.resize(n);
  out.e.resize(n);
  out.sum = mp::enclose(0.0, bits);
  const std::optional<Interval> divisor =
      t ? std::optional<Interval>(mp::enclose(*t, bits)) : std::nullopt;
  for (std::size_t i = 0; i < n; ++i) {
    if (row.neg_inf[i]) {
      out.e[i] = mp::enclose(0.0, bits);
      continue;
    }
    out.scaled[i] = mp::enclose(row.shift[i], bits);
    if (divisor) out.scaled[i] /= *divisor;
    out.e[i] = exp(out.scaled[i]);
    out.sum += out.e[i];
  }
  return out;
}

// Σ_{j != skip} e_j: S without one term, summed apart so that 1 - p_skip has no cancellation.
Interval sum_except(const Terms& terms, std::size_t skip, unsigned bits) {
  Interval s = mp::enclose(0.0, bits);
  for (std::size_t j = 0; j < terms.e.size(); ++j) {
    if (j != skip) s += terms.e[j];
  }
  return s;
}

// a + sign · log1p(x) for an exact a and x = Σ_{j != argmax} e_j >= 0 (`x_positive`: some term
// exists, so L = log1p(x) > 0). When a sits exactly on a rounding boundary of T (the overflow
// threshold MAX + ulp/2, or a midpoint: z_i - max of two doubles can need one bit more than a
// double) and L is astronomically small (exp(-2^27) ≈ 2^-1.9e8, or below MPFR's range
// altogether), no affordable precision separates a + L from a. Then: a is a multiple of 2^g, for
// g below both its own last bit and T's half-ULP spacing around it, and so is every rounding
// boundary of T near a; for 0 < L < 2^g no boundary lies strictly between a and a + L, so a + L
// rounds as a + L* does, L* = 2^(g - 64), a point that decides. Used only when L's enclosure lies
// below L*, so hi + lo (the exact value for ULP errors) moves by less than 2^-64 ULP.
Interval plus_log1p(const Real& a, int sign, const Interval& x, bool x_positive, unsigned bits,
                    const FloatFormat& f) {
  Interval l = log1p(x);
  mpfr_srcptr raw_a = a.backend().data();
  if (x_positive && !mpfr_zero_p(raw_a)) {
    const long e = mpfr_get_exp(raw_a);
    const long g = std::min<long>(e - static_cast<long>(mpfr_min_prec(raw_a)),
                                  e - f.digits - 2);
    if (mpfr_cmp_si_2exp(&l.data()->right, 1, g - 64) < 0) {
      Real substitute;
      mpfr_set_prec(substitute.backend().data(), 2);
      mpfr_set_ui_2exp(substitute.backend().data(), 1, g - 64, MPFR_RNDN);  // exact: a power of two
      l = mp::enclose(substitute, bits);
    }
  }
  Interval sum = mp::enclose(a, bits);
  if (sign < 0) sum -= l; else sum += l;
  return sum;
}

template <typename T>
Outputs<T> unknown(std::size_t n) {
  return Outputs<T>(n);
}

template <typename T>
std::vector<Exact<T>> filled(std::size_t n, T value) {
  return std::vector<Exact<T>>(n, mp::known<T>(value));
}

// softmax of a classified row, optionally of z / t.
template <typename T>
std::vector<Exact<T>> softmax_of(const Row& row, const std::optional<Real>& t,
                                 const FloatFormat& f = format_of<T>()) {
  const std::size_t n = row.neg_inf.size();
  switch (row.kind) {
    case Row::Case::nan: return filled<T>(n, T(kNaN));
    case Row::Case::all_neg_inf: return filled<T>(n, T(0));
    case Row::Case::pos_inf: {
      // 1/k on the +inf entries: decided like any other value (1/3 is not representable).
      const Real k = mp::exact(static_cast<double>(row.pos_inf));
      Outputs<T> out(n);
      for (std::size_t i = 0; i < n; ++i) if (!row.is_pos_inf[i]) out[i] = mp::known<T>(T(0));
      return mp::ziv<T>(std::move(out), [&](unsigned bits, const std::vector<bool>&) {
        Interval share = mp::enclose(1.0, bits) / mp::enclose(k, bits);
        return std::vector<Interval>(n, share);
      }, f);
    }
    case Row::Case::regular: break;
  }
  Outputs<T> out(n);
  for (std::size_t i = 0; i < n; ++i) if (row.neg_inf[i]) out[i] = mp::known<T>(T(0));
  return mp::ziv<T>(std::move(out), [&](unsigned bits, const std::vector<bool>&) {
    const Terms tm = terms(row, bits, t);
    std::vector<Interval> p(n);
    for (std::size_t i = 0; i < n; ++i) if (!row.neg_inf[i]) p[i] = tm.e[i] / tm.sum;
    return p;
  }, f);
}

template <typename T>
Row classify_span(std::span<const T> z) {
  if (z.empty()) throw std::invalid_argument("oracle: a row needs n >= 1");
  return classify(z);
}

}  // namespace

template <typename T>
std::vector<Exact<T>> softmax(std::span<const T> z) {
  return softmax_of<T>(classify_span(z), std::nullopt);
}

template <typename T>
std::vector<Exact<T>> softmax_temperature(std::span<const T> z, T t) {
  if (!(t > 0) || !std::isfinite(t)) throw std::invalid_argument("oracle: temperature must be finite and > 0");
  return softmax_of<T>(classify_span(z), mp::exact(t));
}

namespace {

template <typename T>
std::vector<Exact<T>> log_softmax_of(const Row& row, const FloatFormat& f) {
  const std::size_t n = row.neg_inf.size();
  switch (row.kind) {
    case Row::Case::nan: return filled<T>(n, T(kNaN));
    case Row::Case::all_neg_inf: return filled<T>(n, T(-kInf));
    case Row::Case::pos_inf: {
      const Real k = mp::exact(static_cast<double>(row.pos_inf));
      Outputs<T> out(n);
      for (std::size_t i = 0; i < n; ++i) if (!row.is_pos_inf[i]) out[i] = mp::known<T>(T(-kInf));
      return mp::ziv<T>(std::move(out), [&](unsigned bits, const std::vector<bool>&) {
        return std::vector<Interval>(n, -log(mp::enclose(k, bits)));
      }, f);
    }
    case Row::Case::regular: break;
  }
  Outputs<T> out(n);
  for (std::size_t i = 0; i < n; ++i) if (row.neg_inf[i]) out[i] = mp::known<T>(T(-kInf));
  return mp::ziv<T>(std::move(out), [&](unsigned bits, const std::vector<bool>&) {
    const Terms tm = terms(row, bits, std::nullopt);
    // log S = log1p(S - 1) with S - 1 = Σ_{j != argmax} e_j: tight where log S is tiny.
    const Interval rest = sum_except(tm, row.argmax, bits);
    std::vector<Interval> y(n);
    for (std::size_t i = 0; i < n; ++i) {
      if (!row.neg_inf[i]) y[i] = plus_log1p(row.shift[i], -1, rest, row.finite > 1, bits, f);
    }
    return y;
  }, f);
}

}  // namespace

template <typename T>
std::vector<Exact<T>> log_softmax(std::span<const T> z) {
  return log_softmax_of<T>(classify_span(z), format_of<T>());
}

namespace {

// A row of a reduced format, carried as floats.
Row classify_reduced(std::span<const float> z, const FloatFormat& format) {
  for (float x : z) {
    if (!representable(x, format)) {
      throw std::invalid_argument("oracle: an entry is not a value of " + std::string(format.name));
    }
  }
  return classify_span(z);
}

}  // namespace

std::vector<Exact<float>> softmax(std::span<const float> z, const FloatFormat& format) {
  return softmax_of<float>(classify_reduced(z, format), std::nullopt, format);
}

std::vector<Exact<float>> log_softmax(std::span<const float> z, const FloatFormat& format) {
  return log_softmax_of<float>(classify_reduced(z, format), format);
}

template <typename T>
Exact<T> logsumexp(std::span<const T> z) {
  const Row row = classify_span(z);
  switch (row.kind) {
    case Row::Case::nan: return mp::known<T>(T(kNaN));
    case Row::Case::all_neg_inf: return mp::known<T>(T(-kInf));
    case Row::Case::pos_inf: return mp::known<T>(T(kInf));
    case Row::Case::regular: break;
  }
  return mp::ziv<T>(Outputs<T>(1), [&](unsigned bits, const std::vector<bool>&) {
    const Terms tm = terms(row, bits, std::nullopt);
    return std::vector<Interval>{plus_log1p(row.max, +1, sum_except(tm, row.argmax, bits), row.finite > 1, bits, format_of<T>())};
  })[0];
}

template <typename T>
Exact<T> sigmoid(T x) {
  if (std::isnan(x)) return mp::known<T>(T(kNaN));
  if (std::isinf(x)) return mp::known<T>(x > 0 ? T(1) : T(0));
  const Real minus_x = mp::exact(-x);
  return mp::ziv<T>(Outputs<T>(1), [&](unsigned bits, const std::vector<bool>&) {
    const Interval one = mp::enclose(1.0, bits);
    return std::vector<Interval>{one / (one + exp(mp::enclose(minus_x, bits)))};
  })[0];
}

template <typename T>
Exact<T> cross_entropy(std::span<const T> z, std::size_t label) {
  const Row row = classify_span(z);
  if (label >= z.size()) throw std::invalid_argument("oracle: label outside [0, n)");
  switch (row.kind) {
    case Row::Case::nan: return mp::known<T>(T(kNaN));
    case Row::Case::all_neg_inf: return mp::known<T>(T(kInf));
    case Row::Case::pos_inf: {
      if (!row.is_pos_inf[label]) return mp::known<T>(T(kInf));
      const Real k = mp::exact(static_cast<double>(row.pos_inf));  // -log(1/k)
      return mp::ziv<T>(Outputs<T>(1), [&](unsigned bits, const std::vector<bool>&) {
        return std::vector<Interval>{log(mp::enclose(k, bits))};
      })[0];
    }
    case Row::Case::regular: break;
  }
  if (row.neg_inf[label]) return mp::known<T>(T(kInf));
  // L = (max - z_y) + log1p(Σ_{j != argmax} e_j): the first term is exact.
  const Real gap = mp::exact_difference(row.max, mp::exact(z[label]));
  return mp::ziv<T>(Outputs<T>(1), [&](unsigned bits, const std::vector<bool>&) {
    const Terms tm = terms(row, bits, std::nullopt);
    return std::vector<Interval>{plus_log1p(gap, +1, sum_except(tm, row.argmax, bits), row.finite > 1, bits, format_of<T>())};
  })[0];
}

template <typename T>
std::vector<Exact<T>> cross_entropy_grad(std::span<const T> z, std::size_t label) {
  const Row row = classify_span(z);
  const std::size_t n = z.size();
  if (label >= n) throw std::invalid_argument("oracle: label outside [0, n)");
  if (row.kind != Row::Case::regular) {
    // p - onehot with p from the special-value rules: only p_y - 1 needs deciding again.
    std::vector<Exact<T>> p = softmax_of<T>(row, std::nullopt);
    if (row.kind == Row::Case::nan) return p;
    if (row.kind == Row::Case::pos_inf && row.is_pos_inf[label]) {
      const Real k = mp::exact(static_cast<double>(row.pos_inf));
      p[label] = mp::ziv<T>(Outputs<T>(1), [&](unsigned bits, const std::vector<bool>&) {
        const Interval one = mp::enclose(1.0, bits);
        return std::vector<Interval>{one / mp::enclose(k, bits) - one};
      })[0];
    } else {
      p[label] = mp::known<T>(T(-1));
    }
    return p;
  }
  Outputs<T> out(n);
  for (std::size_t i = 0; i < n; ++i) if (row.neg_inf[i] && i != label) out[i] = mp::known<T>(T(0));
  if (row.neg_inf[label]) out[label] = mp::known<T>(T(-1));
  return mp::ziv<T>(std::move(out), [&](unsigned bits, const std::vector<bool>&) {
    const Terms tm = terms(row, bits, std::nullopt);
    std::vector<Interval> g(n);
    for (std::size_t i = 0; i < n; ++i) {
      if (row.neg_inf[i]) continue;
      // p_y - 1 = -(Σ_{j != y} e_j) / S: no cancellation, and exact when every e_j is 1.
      g[i] = i == label ? -sum_except(tm, label, bits) / tm.sum : tm.e[i] / tm.sum;
    }
    return g;
  });
}

template <typename T>
std::vector<Exact<T>> softmax_backward(std::span<const T> y, std::span<const T> dy) {
  if (y.size() != dy.size() || y.empty()) throw std::invalid_argument("oracle: y and dy need the same n >= 1");
  const std::size_t n = y.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(y[i]) || !std::isfinite(dy[i])) {
      // IEEE propagation: the exact value has no meaning; the standard formula's result is the
      // only sensible reference, and properties check finite inputs.
      throw std::invalid_argument("oracle: softmax_backward takes finite y and dy");
    }
  }
  // A polynomial of the inputs: computed exactly and rounded once.
  std::vector<Real> products(n);
  std::vector<Real> ys(n), dys(n);
  for (std::size_t j = 0; j < n; ++j) {
    ys[j] = mp::exact(y[j]);
    dys[j] = mp::exact(dy[j]);
    products[j] = mp::exact_product(ys[j], dys[j]);
  }
  const Real dot = mp::exact_sum(products);
  std::vector<Exact<T>> dx(n);
  for (std::size_t i = 0; i < n; ++i) {
    dx[i] = mp::round_exact<T>(mp::exact_product(ys[i], mp::exact_difference(dys[i], dot)));
  }
  return dx;
}

template <typename T>
std::vector<Exact<T>> masked_softmax(std::span<const T> z, std::span<const std::uint8_t> keep) {
  if (z.size() != keep.size() || z.empty()) throw std::invalid_argument("oracle: z and keep need the same n >= 1");
  // Masked entries are not attended: their values (even NaN) do not matter.
  std::vector<T> kept;
  for (std::size_t i = 0; i < z.size(); ++i) if (keep[i]) kept.push_back(z[i]);
  std::vector<Exact<T>> out = filled<T>(z.size(), T(0));
  if (kept.empty()) return out;
  const std::vector<Exact<T>> p = softmax<T>(std::span<const T>(kept));
  for (std::size_t i = 0, j = 0; i < z.size(); ++i) if (keep[i]) out[i] = p[j++];
  return out;
}

template <typename T>
std::vector<Exact<T>> attention(std::span<const T> q, std::span<const T> k, std::span<const T> v,
                                std::size_t lq, std::size_t lk, std::size_t d, std::size_t dv,
                                bool causal) {
  if (lq == 0 || lk == 0 || d == 0 || dv == 0) throw std::invalid_argument("oracle: attention sizes must be >= 1");
  if (q.size() != lq * d || k.size() != lk * d || v.size() != lk * dv) {
    throw std::invalid_argument("oracle: attention buffers do not match lq, lk, d, dv");
  }
  const Real root_of = mp::exact(static_cast<double>(d));
  std::vector<Real> vs(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) if (std::isfinite(v[i])) vs[i] = mp::exact(v[i]);

  std::vector<Exact<T>> out;
  out.reserve(lq * dv);
  for (std::size_t i = 0; i < lq; ++i) {
    const std::size_t attended = causal ? std::min(i + 1, lk) : lk;
    bool finite = true;
    for (std::size_t c = 0; c < d; ++c) finite &= std::isfinite(q[i * d + c]);
    for (std::size_t j = 0; j < attended; ++j) {
      for (std::size_t c = 0; c < d; ++c) finite &= std::isfinite(k[j * d + c]);
      for (std::size_t c = 0; c < dv; ++c) finite &= std::isfinite(v[j * dv + c]);
    }
    if (!finite) {  // no single limit exists for non-finite q, k, v: the row is NaN
      for (std::size_t c = 0; c < dv; ++c) out.push_back(mp::known<T>(T(kNaN)));
      continue;
    }
    // Scores as exact dot products; shifting by the largest is exact too.
    std::vector<Real> dots(attended);
    std::size_t best = 0;
    for (std::size_t j = 0; j < attended; ++j) {
      std::vector<Real> products(d);
      for (std::size_t c = 0; c < d; ++c) {
        products[c] = mp::exact_product(mp::exact(q[i * d + c]), mp::exact(k[j * d + c]));
      }
      dots[j] = mp::exact_sum(products);
      if (dots[j] > dots[best]) best = j;
    }
    std::vector<Real> shift(attended);
    for (std::size_t j = 0; j < attended; ++j) shift[j] = mp::exact_difference(dots[j], dots[best]);

    // Keys grouped by equal score (exact dot products), highest first, with each group's exact
    // Σ v_jc per column. Scores are distinct algebraic numbers (dots / √d), so by
    // Lindemann–Weierstrass Σ_g exp(s_g) c_g = 0 for rational c_g only when every c_g = 0: that
    // decides both the sign of a column's numerator and which side of a rounding boundary B
    // out_c lies on (c_g = V_g - B·K_g), however far below the others a group's score lies.
    struct Group {
      Real dot;
      std::size_t keys = 0;
      std::vector<Real> value_sum;  // per column
    };
    std::vector<Group> groups;
    {
      std::vector<std::size_t> order(attended);
      for (std::size_t j = 0; j < attended; ++j) order[j] = j;
      std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return dots[a] > dots[b]; });
      std::vector<std::vector<Real>> columns;
      for (std::size_t at = 0; at < attended; ++at) {
        const std::size_t j = order[at];
        if (groups.empty() || groups.back().dot != dots[j]) {
          groups.push_back({dots[j], 0, {}});
          columns.assign(dv, {});
        }
        ++groups.back().keys;
        for (std::size_t c = 0; c < dv; ++c) columns[c].push_back(vs[j * dv + c]);
        if (at + 1 == attended || dots[order[at + 1]] != dots[j]) {
          for (std::size_t c = 0; c < dv; ++c) groups.back().value_sum.push_back(mp::exact_sum(columns[c]));
        }
      }
    }
    // Σ_g exp((s_g - s_best)/√d) coefficient(g) as factor · sum: sum = Σ_g exp((s_g - s_first)/√d)
    // coefficient(g) from the first group with a nonzero coefficient (its sign is the sign of the
    // whole, and stays decidable where factor = exp((s_first - s_best)/√d) underflows MPFR's
    // range); nullopt when every coefficient is 0 (the sum is exactly 0).
    struct Scaled {
      Interval factor, sum;
    };
    auto scaled_sum = [&](unsigned bits, const Interval& scale, auto coefficient) -> std::optional<Scaled> {
      std::optional<std::size_t> first;
      Interval sum = mp::enclose(0.0, bits);
      for (std::size_t g = 0; g < groups.size(); ++g) {
        const Real k = coefficient(g);
        if (k == 0) continue;
        if (!first) first = g;
        sum += exp(mp::enclose(mp::exact_difference(groups[g].dot, groups[*first].dot), bits) / scale) * mp::enclose(k, bits);
      }
      if (!first) return std::nullopt;
      return Scaled{exp(mp::enclose(mp::exact_difference(groups[*first].dot, dots[best]), bits) / scale), sum};
    };
    Outputs<T> known(dv);
    for (std::size_t c = 0; c < dv; ++c) {
      if (std::all_of(groups.begin(), groups.end(), [&](const Group& g) { return g.value_sum[c] == 0; })) {
        known[c] = mp::known<T>(T(0));
      }
    }
    // out_c = N_c / D, N_c = Σ_g exp((s_g - s_best)/√d) V_g, D = Σ_j exp(shift_j/√d); equal
    // scores give exact points, so a rational result is decided even on a midpoint.
    const std::vector<Exact<T>> row = mp::ziv<T>(known, [&](unsigned bits, const std::vector<bool>&) {
      const Interval scale = sqrt(mp::enclose(root_of, bits));
      Interval den = mp::enclose(0.0, bits);
      for (std::size_t j = 0; j < attended; ++j) den += exp(mp::enclose(shift[j], bits) / scale);
      std::vector<Interval> o(dv, mp::enclose(0.0, bits));
      for (std::size_t c = 0; c < dv; ++c) {
        if (known[c]) continue;
        const Scaled num = *scaled_sum(bits, scale, [&](std::size_t g) { return groups[g].value_sum[c]; });
        if (mpfi_has_zero(num.sum.data()) > 0) {
          o[c] = num.factor * num.sum / den;  // the sign is not decided yet: more precision
          continue;
        }
        // Where the factor underflows MPFR's range the magnitude is [+0, tiny]: keep the sign.
        const Interval magnitude = num.factor * abs(num.sum) / den;
        o[c] = mpfi_is_strictly_neg(num.sum.data()) > 0 ? Interval(-magnitude) : magnitude;
        if (mp::decide<T>(o[c], format_of<T>())) continue;
        // Undecided: if o_c straddles the one rounding boundary B between two adjacent floats,
        // decide the side of B exactly (N_c - B·D = Σ_g exp(..)(V_g - B·K_g)) and replace o_c by
        // a point on that side, within the enclosure.
        const Real left = lower(o[c]), right = upper(o[c]);
        const T low = mp::round_exact<T>(left).value, high = mp::round_exact<T>(right).value;
        if (!(std::isfinite(low) && std::isfinite(high)) || std::nextafter(low, high) != high || low == high) continue;
        const Real ends[] = {mp::exact(low), mp::exact(high)};
        const Real boundary = mp::exact_product(mp::exact_sum(ends), mp::exact(0.5));
        if (!(left <= boundary && boundary <= right)) continue;
        const std::optional<Scaled> side = scaled_sum(bits, scale, [&](std::size_t g) {
          return mp::exact_difference(groups[g].value_sum[c], mp::exact_product(boundary, mp::exact(double(groups[g].keys))));
        });
        if (!side) {  // exactly on the boundary: the point decides (ties to even)
          o[c] = mp::enclose(boundary, bits);
        } else if (mpfi_has_zero(side->sum.data()) <= 0) {
          const double step = mpfi_is_strictly_pos(side->sum.data()) > 0 ? std::ldexp(1.0, -int(bits)) : -std::ldexp(1.0, -int(bits));
          o[c] = mp::enclose(boundary, bits + 8) * (1 + mp::enclose(step, bits + 8));
        }
      }
      return o;
    });
    out.insert(out.end(), row.begin(), row.end());
  }
  return out;
}

#define SOFTCERT_ORACLE_INSTANTIATE(T)                                                           \
  template std::vector<Exact<T>> softmax<T>(std::span<const T>);                                 \
  template std::vector<Exact<T>> log_softmax<T>(std::span<const T>);                             \
  template Exact<T> logsumexp<T>(std::span<const T>);                                            \
  template std::vector<Exact<T>> softmax_temperature<T>(std::span<const T>, T);                  \
  template Exact<T> sigmoid<T>(T);                                                               \
  template Exact<T> cross_entropy<T>(std::span<const T>, std::size_t);                           \
  template std::vector<Exact<T>> cross_entropy_grad<T>(std::span<const T>, std::size_t);        \
  template std::vector<Exact<T>> softmax_backward<T>(std::span<const T>, std::span<const T>);    \
  template std::vector<Exact<T>> masked_softmax<T>(std::span<const T>,                           \
                                                   std::span<const std::uint8_t>);               \
  template std::vector<Exact<T>> attention<T>(std::span<const T>, std::span<const T>,            \
                                              std::span<const T>, std::size_t, std::size_t,      \
                                              std::size_t, std::size_t, bool);

SOFTCERT_ORACLE_INSTANTIATE(float)
SOFTCERT_ORACLE_INSTANTIATE(double)

}  // namespace softcert::oracle

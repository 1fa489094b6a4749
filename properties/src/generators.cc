#include "softcert/properties/generators.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

namespace softcert::properties::gen {
namespace {

template <typename T>
using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;

template <typename T>
T nan_with_payload() {
  Bits<T> bits = std::bit_cast<Bits<T>>(std::numeric_limits<T>::quiet_NaN());
  return std::bit_cast<T>(static_cast<Bits<T>>(bits | 0x5a5));  // a quiet NaN carrying a payload
}

// x rounded to `bits` significant bits (toward zero): a simpler value of the same magnitude.
template <typename T>
T with_significand_bits(T x, int bits) {
  int e = 0;
  const T m = std::frexp(x, &e);
  return std::ldexp(std::trunc(std::ldexp(m, bits)), e - bits);
}

// Candidates strictly simpler than x: 0, ±1, an integer, fewer significand bits, a smaller
// exponent. NaN and ±inf are kept: they are the point of a case that fails with them.
template <typename T>
rc::Seq<T> simpler(T x) {
  std::vector<T> out;
  if (std::isnan(x) || std::isinf(x)) return rc::Seq<T>();
  auto offer = [&](T c) {
    const bool same = std::bit_cast<Bits<T>>(c) == std::bit_cast<Bits<T>>(x);
    if (!same && std::isfinite(c)) out.push_back(c);
  };
  if (x != 0) offer(T(0));
  if (std::fabs(x) > 1) offer(std::copysign(T(1), x));
  if (std::trunc(x) != x && std::fabs(std::trunc(x)) < std::fabs(x)) offer(std::trunc(x));
  for (int bits : {1, 2, 4, 8, 12}) {
    const T c = with_significand_bits(x, bits);
    if (c != x && std::fabs(c) <= std::fabs(x)) offer(c);
  }
  if (std::fabs(x) > 2) offer(x / 2);
  return rc::seq::fromContainer(std::move(out));
}

template <typename T>
rc::Seq<std::vector<T>> simpler_row(const std::vector<T>& row) {
  auto shorter = rc::seq::filter(rc::shrink::removeChunks(row), [](const std::vector<T>& r) { return !r.empty(); });
  return rc::seq::concat(std::move(shorter), rc::shrink::eachElement(row, &simpler<T>));
}

}  // namespace

template <typename T>
const std::vector<T>& special_values() {
  static const std::vector<T> values = [] {
    using L = std::numeric_limits<T>;
    std::vector<T> v = {T(0), -T(0), L::denorm_min(), -L::denorm_min(),
                        std::nextafter(L::min(), T(0)), -std::nextafter(L::min(), T(0)),
                        L::min(), -L::min(), T(1), T(-1), L::max(), L::lowest(),
                        L::infinity(), -L::infinity(), L::quiet_NaN(), nan_with_payload<T>()};
    // The thresholds of exp: overflow above log(max), subnormal below log(min), zero below
    // log(denorm_min); each with its neighbours and its negation.
    for (long double threshold : {std::log(static_cast<long double>(L::max())),
                                  std::log(static_cast<long double>(L::min())),
                                  std::log(static_cast<long double>(L::denorm_min()))}) {
      const T t = static_cast<T>(threshold);
      for (T x : {std::nextafter(t, -L::infinity()), t, std::nextafter(t, L::infinity())}) {
        v.push_back(x);
        v.push_back(-x);
      }
    }
    return v;
  }();
  return values;
}

template <typename T>
rc::Gen<T> any_encoding() {
  return rc::gen::map(rc::gen::arbitrary<Bits<T>>(), [](Bits<T> b) { return std::bit_cast<T>(b); });
}

template <typename T>
rc::Gen<T> finite_logit() {
  const auto& specials = special_values<T>();
  std::vector<T> finite;
  for (T v : specials) if (std::isfinite(v)) finite.push_back(v);
  // Ordinary values: k / 64 for |k| < 2^14 (few significand bits, easy to read when shrunk),
  // scaled now and then by 2^±20.
  auto ordinary = rc::gen::map(
      rc::gen::pair(rc::gen::inRange<int>(-(1 << 14), 1 << 14), rc::gen::inRange<int>(-1, 2)),
      [](const std::pair<int, int>& p) { return std::ldexp(static_cast<T>(p.first), -6 + 20 * p.second); });
  auto any_finite = rc::gen::suchThat(any_encoding<T>(), [](T x) { return std::isfinite(x); });
  return rc::gen::shrink(rc::gen::weightedOneOf<T>({{8, ordinary},
                                                    {2, rc::gen::elementOf(finite)},
                                                    {1, any_finite}}),
                         &simpler<T>);
}

template <typename T>
rc::Gen<T> logit() {
  return rc::gen::weightedOneOf<T>({{6, finite_logit<T>()},
                                    {2, rc::gen::elementOf(special_values<T>())},
                                    {1, any_encoding<T>()}});
}

template <typename T>
rc::Gen<std::vector<T>> row(Regime regime) {
  auto drawn = rc::gen::map(rc::gen::noShrink(rc::gen::arbitrary<std::uint64_t>()), [regime](std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    return make_row<T>(regime, rng);
  });
  return rc::gen::shrink(drawn, &simpler_row<T>);
}

template <typename T>
rc::Gen<std::vector<T>> finite_row(std::size_t max_n) {
  return rc::gen::mapcat(rc::gen::inRange<std::size_t>(1, max_n + 1), [](std::size_t n) {
    return rc::gen::container<std::vector<T>>(n, finite_logit<T>());
  });
}

template <typename T>
rc::Gen<std::vector<T>> any_row(std::size_t max_n) {
  auto mixed = rc::gen::mapcat(rc::gen::inRange<std::size_t>(1, max_n + 1), [](std::size_t n) {
    return rc::gen::container<std::vector<T>>(n, logit<T>());
  });
  // A fully masked row (only -inf) is one encoding pattern in millions: make it one row in 12.
  auto masked = rc::gen::mapcat(rc::gen::inRange<std::size_t>(1, max_n + 1), [](std::size_t n) {
    return rc::gen::just(std::vector<T>(n, -std::numeric_limits<T>::infinity()));
  });
  return rc::gen::weightedOneOf<std::vector<T>>({{11, mixed}, {1, masked}});
}

namespace {

// Regimes whose rows are finite and small enough for property runs.
constexpr Regime kFiniteRegimes[] = {Regime::small,        Regime::wide_spread, Regime::huge_offset, Regime::near_overflow,
                                     Regime::ties,         Regime::one_dominant, Regime::subnormal_spread, Regime::n_one,
                                     Regime::simd_tails};

template <typename T>
rc::Gen<std::vector<T>> finite_logits() {
  // Six parts in fifteen any finite logits, one part each regime.
  constexpr int kAny = 6, kRegimes = static_cast<int>(std::size(kFiniteRegimes));
  return rc::gen::mapcat(rc::gen::inRange(0, kAny + kRegimes), [](int k) {
    return k < kAny ? finite_row<T>() : row<T>(kFiniteRegimes[k - kAny]);
  });
}

// Exact shifts of every scale: small integers, powers of two, 1e4-like offsets.
template <typename T>
rc::Gen<T> shift() {
  return rc::gen::weightedOneOf<T>({{3, rc::gen::map(rc::gen::inRange<int>(-64, 65), [](int k) { return static_cast<T>(k); })},
                                    {2, rc::gen::map(rc::gen::inRange<int>(-60, 61), [](int e) { return std::ldexp(T(1), e); })},
                                    {1, rc::gen::element(T(1e4), T(-3e5), T(1024), T(-65536))}});
}

template <typename T>
rc::Gen<std::vector<T>> small_values(std::size_t count) {
  return rc::gen::container<std::vector<T>>(
      count, rc::gen::map(rc::gen::inRange<int>(-512, 513), [](int k) { return static_cast<T>(k) / 64; }));
}

}  // namespace

template <typename T>
rc::Gen<Input<T>> input(InputKind kind) {
  return rc::gen::exec([kind] {
    Input<T> in;
    switch (kind) {
      case InputKind::finite_row:
      case InputKind::masked_row: in.z = *finite_logits<T>(); break;
      case InputKind::any_row: in.z = *any_row<T>(); break;
      case InputKind::pair: in.z = *rc::gen::container<std::vector<T>>(2, finite_logit<T>()); break;
      case InputKind::batch: {
        in.rows = *rc::gen::inRange<std::size_t>(2, 6);
        const std::size_t n = *rc::gen::inRange<std::size_t>(1, 21);
        in.z = *rc::gen::container<std::vector<T>>(in.rows * n, finite_logit<T>());
        break;
      }
      case InputKind::attention: {
        in.lq = *rc::gen::inRange<std::size_t>(1, 7);
        in.lk = *rc::gen::inRange<std::size_t>(1, 11);
        in.d = *rc::gen::inRange<std::size_t>(1, 9);
        in.dv = *rc::gen::inRange<std::size_t>(1, 6);
        in.causal = *rc::gen::arbitrary<bool>();
        in.q = *small_values<T>(in.lq * in.d);
        in.k = *small_values<T>(in.lk * in.d);
        in.v = *small_values<T>(in.lk * in.dv);
        return in;
      }
    }
    const std::size_t n = in.n();
    in.labels.clear();
    for (std::size_t r = 0; r < in.rows; ++r) in.labels.push_back(*rc::gen::inRange<std::int64_t>(0, static_cast<std::int64_t>(n)));
    in.c = *shift<T>();
    in.t = *rc::gen::element(T(1), T(0.5), T(2), T(0.1), T(10), T(1e-3), T(1e3));
    in.seed = *rc::gen::arbitrary<std::uint64_t>();
    in.dy = *small_values<T>(n);
    if (kind == InputKind::masked_row || kind == InputKind::any_row) {
      in.keep = *rc::gen::container<std::vector<std::uint8_t>>(in.z.size(), rc::gen::map(rc::gen::inRange(0, 4), [](int k) {
        return static_cast<std::uint8_t>(k != 0);
      }));
    }
    return in;
  });
}

template <typename T>
std::vector<std::string> classify(const std::vector<T>& row) {
  std::vector<std::string> c;
  bool nan = false, pos_inf = false, neg_inf = false, all_neg_inf = !row.empty(), subnormal = false,
       neg_zero = false;
  T max = -std::numeric_limits<T>::infinity(), min = std::numeric_limits<T>::infinity();
  for (T x : row) {
    nan |= std::isnan(x);
    pos_inf |= x == std::numeric_limits<T>::infinity();
    neg_inf |= x == -std::numeric_limits<T>::infinity();
    all_neg_inf &= x == -std::numeric_limits<T>::infinity();
    subnormal |= std::fpclassify(x) == FP_SUBNORMAL;
    neg_zero |= x == 0 && std::signbit(x);
    if (std::isfinite(x)) max = std::max(max, x), min = std::min(min, x);
  }
  if (nan) c.emplace_back("nan");
  if (pos_inf) c.emplace_back("+inf");
  if (neg_inf) c.emplace_back("-inf");
  if (all_neg_inf) c.emplace_back("all -inf");
  if (subnormal) c.emplace_back("subnormal");
  if (neg_zero) c.emplace_back("-0");
  if (row.size() == 1) c.emplace_back("n=1");
  if (row.size() > 16) c.emplace_back("n > 16");
  if (std::isfinite(max)) {
    if (std::count(row.begin(), row.end(), max) > 1) c.emplace_back("ties at max");
    if (std::fabs(max) >= T(1e4)) c.emplace_back("huge offset");
    if (static_cast<long double>(max) - min > 88) c.emplace_back("spread > 88");
  }
  return c;
}

#define SOFTCERT_GENERATORS_INSTANTIATE(T)                                              \
  template const std::vector<T>& special_values<T>();                                   \
  template rc::Gen<T> any_encoding<T>();                                                \
  template rc::Gen<T> finite_logit<T>();                                                \
  template rc::Gen<T> logit<T>();                                                       \
  template rc::Gen<std::vector<T>> row<T>(Regime);                                      \
  template rc::Gen<std::vector<T>> finite_row<T>(std::size_t);                          \
  template rc::Gen<std::vector<T>> any_row<T>(std::size_t);                             \
  template std::vector<std::string> classify<T>(const std::vector<T>&);                 \
  template rc::Gen<Input<T>> input<T>(InputKind);

SOFTCERT_GENERATORS_INSTANTIATE(float)
SOFTCERT_GENERATORS_INSTANTIATE(double)

}  // namespace softcert::properties::gen

#include "softcert/properties/regimes.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace softcert::properties {

std::string_view regime_name(Regime r) {
  switch (r) {
    case Regime::small: return "small";
    case Regime::wide_spread: return "wide_spread";
    case Regime::huge_offset: return "huge_offset";
    case Regime::near_overflow: return "near_overflow";
    case Regime::ties: return "ties";
    case Regime::one_dominant: return "one_dominant";
    case Regime::neg_inf_entries: return "neg_inf_entries";
    case Regime::subnormal_spread: return "subnormal_spread";
    case Regime::n_one: return "n_one";
    case Regime::simd_tails: return "simd_tails";
    case Regime::large_n: return "large_n";
  }
  return "?";
}

namespace {

template <typename T>
constexpr bool kSingle = sizeof(T) == sizeof(float);

// log of the largest finite value: exp overflows just above it.
template <typename T>
const T kLogMax = static_cast<T>(std::log(static_cast<long double>(std::numeric_limits<T>::max())));

std::size_t uniform_n(std::mt19937_64& rng, std::size_t lo, std::size_t hi) {
  return std::uniform_int_distribution<std::size_t>(lo, hi)(rng);
}

template <typename T>
std::vector<T> normal_row(std::mt19937_64& rng, std::size_t n, double mean, double sd) {
  std::normal_distribution<double> g(mean, sd);
  std::vector<T> z(n);
  for (T& v : z) v = static_cast<T>(g(rng));
  return z;
}

template <typename T>
std::vector<T> uniform_row(std::mt19937_64& rng, std::size_t n, double lo, double hi) {
  std::uniform_real_distribution<double> g(lo, hi);
  std::vector<T> z(n);
  for (T& v : z) v = static_cast<T>(g(rng));
  return z;
}

}  // namespace

template <typename T>
std::vector<T> make_row(Regime r, std::mt19937_64& rng, std::size_t n_fixed) {
  constexpr T inf = std::numeric_limits<T>::infinity();
  switch (r) {
    case Regime::small:
      return normal_row<T>(rng, uniform_n(rng, 2, 64), 0, 1);
    case Regime::wide_spread: {
      const double spread = kSingle<T> ? 80 : 700;
      return uniform_row<T>(rng, uniform_n(rng, 2, 64), -spread / 2, spread / 2);
    }
    case Regime::huge_offset: {
      static constexpr double offsets[] = {1e4, -1e4, 3e5, kSingle<T> ? 1e30 : 1e300};
      const double offset = offsets[uniform_n(rng, 0, 3)];
      // Noise on the grid of the offset's ULP times a few hundred, so it survives rounding.
      const double grid = std::ldexp(1.0, std::ilogb(offset) - std::numeric_limits<T>::digits + 9);
      auto z = normal_row<T>(rng, uniform_n(rng, 2, 48), 0, 3);
      for (T& v : z) v = static_cast<T>(offset + std::round(static_cast<double>(v) * 64) * grid);
      return z;
    }
    case Regime::near_overflow: {
      if (uniform_n(rng, 0, 1) == 0) {
        return uniform_row<T>(rng, uniform_n(rng, 2, 32), kLogMax<T> - 4, kLogMax<T> + 16);
      }
      // Near the largest finite value, both signs: z - max itself overflows to -inf.
      const std::size_t n = uniform_n(rng, 2, 16);
      std::vector<T> z(n);
      for (T& v : z) {
        T x = std::numeric_limits<T>::max();
        for (std::size_t s = uniform_n(rng, 0, 1u << 12); s > 0; --s) x = std::nextafter(x, T(0));
        v = uniform_n(rng, 0, 3) == 0 ? -x : x;
      }
      return z;
    }
    case Regime::ties: {
      const std::size_t n = uniform_n(rng, 2, 40);
      const T top = static_cast<T>(std::normal_distribution<double>(0, 10)(rng));
      const T low = top - static_cast<T>(uniform_n(rng, 1, 30));
      std::vector<T> z(n, low);
      for (std::size_t k = uniform_n(rng, 1, n); k > 0; --k) z[uniform_n(rng, 0, n - 1)] = top;
      return z;
    }
    case Regime::one_dominant: {
      auto z = normal_row<T>(rng, uniform_n(rng, 2, 64), 0, 1);
      const double gap = kSingle<T> ? std::uniform_real_distribution<double>(8, 40)(rng)
                                    : std::uniform_real_distribution<double>(15, 80)(rng);
      z[uniform_n(rng, 0, z.size() - 1)] = static_cast<T>(gap);
      return z;
    }
    case Regime::neg_inf_entries: {
      auto z = normal_row<T>(rng, uniform_n(rng, 2, 40), 0, 2);
      const bool all_but_one = uniform_n(rng, 0, 3) == 0;
      for (T& v : z) if (all_but_one || uniform_n(rng, 0, 2) == 0) v = -inf;
      z[uniform_n(rng, 0, z.size() - 1)] = static_cast<T>(std::normal_distribution<double>(0, 2)(rng));
      return z;
    }
    case Regime::subnormal_spread: {
      const double lo = kSingle<T> ? 88 : 708, hi = kSingle<T> ? 150 : 745;
      auto z = uniform_row<T>(rng, uniform_n(rng, 2, 32), -hi, -lo);
      z[uniform_n(rng, 0, z.size() - 1)] = 0;
      return z;
    }
    case Regime::n_one:
      return normal_row<T>(rng, 1, 0, 100);
    case Regime::simd_tails:
      return normal_row<T>(rng, n_fixed ? n_fixed : uniform_n(rng, 1, 67), 0, 3);
    case Regime::large_n:
      return normal_row<T>(rng, uniform_n(rng, 100000, 131072), 0, 2);
  }
  return {};
}

template <typename T>
T make_temperature(std::mt19937_64& rng) {
  static constexpr double temperatures[] = {1, 0.5, 2, 0.1, 10, 1e-3, 1e3, 0.7};
  return static_cast<T>(temperatures[uniform_n(rng, 0, std::size(temperatures) - 1)]);
}

std::vector<float> make_reduced_row(Regime r, std::mt19937_64& rng, const FloatFormat& format, std::size_t n_fixed) {
  std::vector<float> z;
  if (r == Regime::huge_offset) {
    static constexpr double offsets[] = {1e4, -1e4, 3e5, 1e30};
    double offset = offsets[uniform_n(rng, 0, 3)];
    offset = std::copysign(std::min(std::fabs(offset), format.max() / 2), offset);
    const double grid = std::ldexp(1.0, std::ilogb(offset) - format.digits + 1);  // the format's ULP there
    z = normal_row<float>(rng, uniform_n(rng, 2, 48), 0, 3);
    for (float& v : z) v = static_cast<float>(offset + std::round(static_cast<double>(v)) * grid);
  } else {
    z = make_row<float>(r, rng, n_fixed);
    if (r == Regime::wide_spread || r == Regime::near_overflow || r == Regime::subnormal_spread) {
      const double scale = std::log(format.max()) / std::log(static_cast<double>(std::numeric_limits<float>::max()));
      for (float& v : z) v = static_cast<float>(v * scale);
    }
  }
  for (float& v : z) {
    if (std::isfinite(v)) v = std::copysign(std::min(std::fabs(v), static_cast<float>(format.max())), v);
    v = round_to(v, format);
  }
  return z;
}

template std::vector<float> make_row<float>(Regime, std::mt19937_64&, std::size_t);
template std::vector<double> make_row<double>(Regime, std::mt19937_64&, std::size_t);
template float make_temperature<float>(std::mt19937_64&);
template double make_temperature<double>(std::mt19937_64&);

}  // namespace softcert::properties

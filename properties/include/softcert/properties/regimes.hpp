// Named input regimes (DESIGN.md §5): rows designed to break softmax implementations, not only
// uniform noise. Every generator is deterministic in its std::mt19937_64, so a seed replays a case.
#pragma once

#include <cstdint>
#include <random>
#include <string_view>
#include <vector>

#include "softcert/float_format.hpp"

namespace softcert::properties {

enum class Regime {
  small,             // N(0, 1) logits, n in 2..64
  wide_spread,       // uniform over a spread of about 80 (f32) / 700 (f64): exp ratios near the range
  huge_offset,       // 1e4 + N(0,1) and larger offsets: z - max must be exact to stay accurate
  near_overflow,     // logits around log(max) (naive exp overflows) and near the largest finite value
  ties,              // several entries equal to the max, the rest tied below
  one_dominant,      // one logit far above the rest: log_softmax ≈ 0 there, p ≈ 1
  neg_inf_entries,   // some -inf entries (masked), sometimes all but one
  subnormal_spread,  // spreads of 88-150 (f32) / 708-745 (f64): subnormal probabilities
  n_one,             // a single logit
  simd_tails,        // n in 1..67, every tail length around 4, 8 and 16 lanes
  large_n,           // n >= 100,000 (few rows)
};

inline constexpr Regime kAllRegimes[] = {
    Regime::small,           Regime::wide_spread, Regime::huge_offset, Regime::near_overflow,
    Regime::ties,            Regime::one_dominant, Regime::neg_inf_entries,
    Regime::subnormal_spread, Regime::n_one,      Regime::simd_tails,  Regime::large_n};

std::string_view regime_name(Regime r);

// One row of logits in regime r; `n` (simd_tails only, 0: drawn) fixes its length.
template <typename T>
std::vector<T> make_row(Regime r, std::mt19937_64& rng, std::size_t n = 0);

// A row of `format` (a reduced format; values carried as floats) in regime r: the f32 row with the
// regimes defined by exp's thresholds (wide spreads, near overflow, subnormal results) scaled to
// the format's range, huge offsets with noise on the format's own grid, every value clamped to the
// format's largest finite magnitude and rounded into the format.
std::vector<float> make_reduced_row(Regime r, std::mt19937_64& rng, const FloatFormat& format, std::size_t n = 0);

// The row length of the simd_tails case drawn from `seed`: 1 + seed mod 67, so that 67 cases
// whose seeds step by a number prime to 67 (the certifier's do) cover every n from 1 to 67,
// every tail of every SIMD width up to 64 lanes.
inline std::size_t simd_tail_size(std::uint64_t seed) { return 1 + seed % 67; }

// A temperature for softmax_temperature rows: ordinary values and extremes (1e-3 .. 1e3).
template <typename T>
T make_temperature(std::mt19937_64& rng);

}  // namespace softcert::properties

// `simd`'s f64 softmax, log_softmax, logsumexp, cross-entropy and its gradient, masked softmax,
// sigmoid and softmax_temperature, vectorised with Google Highway and dispatched at run time like
// simd.cc (AVX-512 "AVX3", AVX2, SSE4, scalar fallback): within 1 ULP like `accurate`, nearly
// always correctly rounded, many times faster than its scalar double-double. A row of the first
// three takes three passes at most:
//   1. max, min (of all entries and of the finite ones) and a NaN check in f64 lanes. A row that is
//      special (NaN, +inf, only -inf: special.hpp) or hard (below) is computed by `accurate`'s own
//      kernel on that one row, so special values are accurate's bit for bit.
//   2. the terms t_i = exp(z_i - m), m the row's max, each a double-double hi + lo (see "Terms"),
//      and their sum S as a double-double in vector lanes (TwoSum of each hi into the lanes, lo
//      added to their low part, merged every kBlock vectors): no drift with n. Log-sums sum the
//      entries below the max and count the max's ties apart, so rest = S - 1 loses nothing.
//   3. softmax: y_i = (hi_i + lo_i) · R rounded once, R = 1/S a double-double, hi_i and lo_i kept
//      in a per-thread scratch row by pass 2 (recomputed where the row is too large for it; never
//      kept in y, so that a row pass 2 finds hard is redone from an untouched z, in place too);
//      log_softmax: y_i = (z_i - m) - L rounded once, two non-positive double-doubles, L =
//      log1p(rest) (scalar, once per row); logsumexp: m + L rounded once.
//
// Deep shifts, z_i - m in [-745.2, -600): their terms' lo parts would be subnormal (below -708.3
// their scale too), so pass 2 sums them as they come out, or as 0 below -708.3: off by less than
// 2^-1021.8 each, which S >= 1 cannot show; softmax forms their outputs in pass 3 from the term's
// unscaled parts, rounded once and then scaled exactly. Entries below -745.2 (-inf among them)
// have a term below 2^-1075, which no softmax output can see, and count 0.
// Hard rows (to accurate's row): for softmax and the gradient, a deep shift below -708.3 or below
// log S - 708.39 (a subnormal output); a finite entry of magnitude 2^1022 or more (z_i - m, or a
// step of its TwoSum, could overflow); for log-sums and the gradient's label entry, a rest below
// 2^-900 beside deep shifts or finite entries below -745 (L or g_y then tiny, and those terms'
// errors could show), and logsumexp rows where m + L cancels beyond L's error bound. Ordinary data
// never hits them.
//
// Error bounds (u = 2^-53; "ε" relative):
//   - terms: ε_t <= 2^-66.5, each (see "Terms");
//   - S: Sum2 in each lane over a block of B = kBlock vectors: |error| <= 2B(B+1) u^2 S < 2^-80 S,
//     the lanes and blocks merged by TwoSum too (2^-104 each); ε_S <= ε_t + 2^-79;
//   - R = 1/S: q1 = 1/S_hi, q1 + (1 - S q1) q1 (the residual exact by FMA): 2^-104;
//   - softmax: p = hi·R_hi, e its exact error (FMA, or Dekker's product without one), then
//     p + (e + hi·R_lo + lo·R_hi) rounded once: the sum before that rounding is within
//     ε_t + ε_S + 2^-102 < 2^-65.4 of y_i, so y_i is within 0.5 + 2^53·2^-65.4 < 0.5003 ULP
//     (outputs are normal: terms >= e^-600 and S < 2^100; a deep lane's is formed from the term's
//     parts before their scale, within ε_t too, and scaled exactly where it is normal);
//   - L = log1p(rest): rest within ε_S, so L within ε_S·rest/(1 + rest) <= ε_S·L, plus the log's
//     own 2^-70 (see LogOnePlus): kLogError = 2^-65 bounds it, relative to L;
//   - log_softmax: (z_i - m) exact and <= 0, L >= 0: the sum within kLogError, 0.5003 ULP;
//   - logsumexp: m + L within kLogError·L; where that exceeds 2^-61 |m + L| (1/256 ULP: only where
//     m < 0 and m + L cancels) the row is accurate's; otherwise within 0.5 + 2^-8 ULP.
// Measured (lib/test/simd_f64_test.cc, and 4,000 rows of each f64 regime of properties/regimes.hpp:
// 1.9 million outputs per target): every output correctly rounded, on AVX2, SSE4 and scalar.
//
// The other five reuse these passes:
//   - cross_entropy: pass 1 and L as for log_softmax, then (m - z_y) + L rounded once, m - z_y
//     exact as a double-double (TwoSum); +inf where z_y is -inf. Both parts >= 0, so no
//     cancellation: within kLogError relative, 0.5003 ULP (an exact midpoint m - z_y goes the way
//     L > 0 pushes it: dd::round_sum).
//   - cross_entropy_grad: softmax's passes with the label's term summed apart, rest = Σ_{j≠y} t_j
//     and own = t_y, S = rest + own (2^-104); g_i = t_i · R as softmax's y_i, and g_y = -(rest · R)
//     rounded once, not p_y - 1 (which cancels where p_y ≈ 1): rest is a sum of terms like S, within
//     ε_S, so 0.5003 ULP too. Hard also where rest < 2^-900 next to entries below -745 (the dropped
//     terms could show in g_y; otherwise rest is 0, giving +0, or >= e^-600: g_y normal).
//   - masked_softmax: the row with its masked-out entries -inf, written into y, is softmax'd there
//     in place: softmax's bound, masked-out entries exactly +0 (a -inf entry's term is 0).
//   - softmax_temperature: softmax's passes with the shift u = (z_i - m)/t a double-double (see
//     "Tempered shifts"), within 2^-94.7 absolute of u for every shift pass 2 keeps, at any t > 0
//     (below 2^-512 the lanes divide (z - m) 2^600 by t 2^600, so that the remainder's underflow,
//     2^-1072/t otherwise, cannot show): a relative error of that much in the term. Its ul, up to
//     2^-42.8 where z - m's is 2^-44, raises the neglected rl (e^rh - 1 - rh - rh^2/2) + rl^2/2 of
//     "Terms" from 2^-72.2 to 2^-70.9: ε_t <= 2^-69.5 (w's roundings) + 2^-70.9 + 2^-68.4 (the
//     bracket) + 2^-72 (the series) + 2^-94.7 < 2^-67.6 (2^-67.7 for z - m), within the 2^-66.5
//     above, so softmax's 0.5003 ULP holds. `deep` is decided on the scaled spread (low - m)/t,
//     `hard` on the entries as for softmax; special and hard rows are accurate's at the same t
//     (which divides 2^600 up below t = 2^-512 too). At t = 1 the tempered shift is exact:
//     softmax's own passes, the same bits.
//   - sigmoid, per lane: e = e^-|x| = (h + l) 2^E, the term's parts before its scale (ε_t; |x| <
//     745.2 keeps |k| < 2^18); σ = num / (1 + e) · scale with num = 1, scale = 1 for x >= 0 and num =
//     h + l, scale = 2^E below, the quotient formed unscaled so that no lo part is subnormal, and
//     scaled exactly (normal results: x >= -708.3). 1 + e = s + t (Fast2Sum), q = num_hi · (1/s),
//     the residual num - (s + t) q with num_hi - s q exact, then q + residual/s rounded once: the
//     quotient within 2^-100, e's error reaching σ as ε_t/(1 + e) (x < 0) or ε_t e/(1 + e) (x >= 0):
//     within 2^-66.4 relative, 0.5001 ULP. NaN and x in [-745.2, -708.3) (subnormal results) are
//     accurate's sigmoid, x < -745.2 gives +0 (σ < e^x < 2^-1075.09), x > 40 is computed as 40 (σ
//     rounds to 1 from 37.5 up).
// Measured (the test, and 4,000 rows of each regime per function: 40,000 losses, 0.9 million
// gradients and masked softmax outputs, 1.6 million sigmoids): on AVX2, SSE4 and scalar one sigmoid
// misrounded (AVX2, 0.500001 ULP); every other output correctly rounded, but for 3 gradients of
// hard rows, accurate's own (1 ULP off near 2^-1017). softmax_temperature (the test, and 4,000
// rows of each regime, 100 of large_n, at the regimes' temperatures: 12.5 million outputs per
// target): 12 misrounded, by 0.500003 ULP at most, on AVX2, SSE4 and scalar alike.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>

// SSSE3 would only add compile time: every x86 CPU with SSSE3 but not SSE4 is long retired.
#ifndef HWY_DISABLED_TARGETS
#define HWY_DISABLED_TARGETS HWY_SSSE3
#endif

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "simd_f64.cc"
#include <hwy/foreach_target.h>  // re-includes this file once per target
#include <hwy/highway.h>

#include "algorithms.hpp"
#include "double_double.hpp"
#include "kernels.hpp"
#include "scratch.hpp"
#include "simd_f64.hpp"
#include "simd_lanes-inl.h"

// Target-independent constants and declarations, once (foreach_target re-includes the file).
#ifndef SOFTCERT_LIB_SIMD_F64_CONSTANTS_
#define SOFTCERT_LIB_SIMD_F64_CONSTANTS_
namespace softcert::lib {
namespace {

// accurate's kernel on one row, for special and hard rows; compiled once, for the baseline CPU
// (HWY_ONCE below).
void AccurateSoftmaxRow(const double* z, double* y, std::size_t n);
void AccurateLogSoftmaxRow(const double* z, double* y, std::size_t n);
double AccurateLogsumexpRow(const double* z, std::size_t n);
double AccurateCrossEntropyRow(const double* z, std::int64_t label, std::size_t n);
void AccurateCrossEntropyGradRow(const double* z, std::int64_t label, double* g, std::size_t n);
void AccurateMaskedSoftmaxRow(const double* z, const std::uint8_t* keep, double* y, std::size_t n);
double AccurateSigmoid(double x);
void AccurateSoftmaxTemperatureRow(const double* z, double* y, std::size_t n, double t);

// 2^(j/128) = kExp2Hi[j] + kExp2Lo[j] to 2^-104 relative (mpmath, 400 bits).
alignas(64) constexpr double kExp2Hi[128] = {
    0x1.0000000000000p+0, 0x1.0163da9fb3335p+0, 0x1.02c9a3e778061p+0, 0x1.04315e86e7f85p+0,
    0x1.059b0d3158574p+0, 0x1.0706b29ddf6dep+0, 0x1.0874518759bc8p+0, 0x1.09e3ecac6f383p+0,
    0x1.0b5586cf9890fp+0, 0x1.0cc922b7247f7p+0, 0x1.0e3ec32d3d1a2p+0, 0x1.0fb66affed31bp+0,
    0x1.11301d0125b51p+0, 0x1.12abdc06c31ccp+0, 0x1.1429aaea92de0p+0, 0x1.15a98c8a58e51p+0,
    0x1.172b83c7d517bp+0, 0x1.18af9388c8deap+0, 0x1.1a35beb6fcb75p+0, 0x1.1bbe084045cd4p+0,
    0x1.1d4873168b9aap+0, 0x1.1ed5022fcd91dp+0, 0x1.2063b88628cd6p+0, 0x1.21f49917ddc96p+0,
    0x1.2387a6e756238p+0, 0x1.251ce4fb2a63fp+0, 0x1.26b4565e27cddp+0, 0x1.284dfe1f56381p+0,
    0x1.29e9df51fdee1p+0, 0x1.2b87fd0dad990p+0, 0x1.2d285a6e4030bp+0, 0x1.2ecafa93e2f56p+0,
    0x1.306fe0a31b715p+0, 0x1.32170fc4cd831p+0, 0x1.33c08b26416ffp+0, 0x1.356c55f929ff1p+0,
    0x1.371a7373aa9cbp+0, 0x1.38cae6d05d866p+0, 0x1.3a7db34e59ff7p+0, 0x1.3c32dc313a8e5p+0,
    0x1.3dea64c123422p+0, 0x1.3fa4504ac801cp+0, 0x1.4160a21f72e2ap+0, 0x1.431f5d950a897p+0,
    0x1.44e086061892dp+0, 0x1.46a41ed1d0057p+0, 0x1.486a2b5c13cd0p+0, 0x1.4a32af0d7d3dep+0,
    0x1.4bfdad5362a27p+0, 0x1.4dcb299fddd0dp+0, 0x1.4f9b2769d2ca7p+0, 0x1.516daa2cf6642p+0,
    0x1.5342b569d4f82p+0, 0x1.551a4ca5d920fp+0, 0x1.56f4736b527dap+0, 0x1.58d12d497c7fdp+0,
    0x1.5ab07dd485429p+0, 0x1.5c9268a5946b7p+0, 0x1.5e76f15ad2148p+0, 0x1.605e1b976dc09p+0,
    0x1.6247eb03a5585p+0, 0x1.6434634ccc320p+0, 0x1.6623882552225p+0, 0x1.68155d44ca973p+0,
    0x1.6a09e667f3bcdp+0, 0x1.6c012750bdabfp+0, 0x1.6dfb23c651a2fp+0, 0x1.6ff7df9519484p+0,
    0x1.71f75e8ec5f74p+0, 0x1.73f9a48a58174p+0, 0x1.75feb564267c9p+0, 0x1.780694fde5d3fp+0,
    0x1.7a11473eb0187p+0, 0x1.7c1ed0130c132p+0, 0x1.7e2f336cf4e62p+0, 0x1.80427543e1a12p+0,
    0x1.82589994cce13p+0, 0x1.8471a4623c7adp+0, 0x1.868d99b4492edp+0, 0x1.88ac7d98a6699p+0,
    0x1.8ace5422aa0dbp+0, 0x1.8cf3216b5448cp+0, 0x1.8f1ae99157736p+0, 0x1.9145b0b91ffc6p+0,
    0x1.93737b0cdc5e5p+0, 0x1.95a44cbc8520fp+0, 0x1.97d829fde4e50p+0, 0x1.9a0f170ca07bap+0,
    0x1.9c49182a3f090p+0, 0x1.9e86319e32323p+0, 0x1.a0c667b5de565p+0, 0x1.a309bec4a2d33p+0,
    0x1.a5503b23e255dp+0, 0x1.a799e1330b358p+0, 0x1.a9e6b5579fdbfp+0, 0x1.ac36bbfd3f37ap+0,
    0x1.ae89f995ad3adp+0, 0x1.b0e07298db666p+0, 0x1.b33a2b84f15fbp+0, 0x1.b59728de5593ap+0,
    0x1.b7f76f2fb5e47p+0, 0x1.ba5b030a1064ap+0, 0x1.bcc1e904bc1d2p+0, 0x1.bf2c25bd71e09p+0,
    0x1.c199bdd85529cp+0, 0x1.c40ab5fffd07ap+0, 0x1.c67f12e57d14bp+0, 0x1.c8f6d9406e7b5p+0,
    0x1.cb720dcef9069p+0, 0x1.cdf0b555dc3fap+0, 0x1.d072d4a07897cp+0, 0x1.d2f87080d89f2p+0,
    0x1.d5818dcfba487p+0, 0x1.d80e316c98398p+0, 0x1.da9e603db3285p+0, 0x1.dd321f301b460p+0,
    0x1.dfc97337b9b5fp+0, 0x1.e264614f5a129p+0, 0x1.e502ee78b3ff6p+0, 0x1.e7a51fbc74c83p+0,
    0x1.ea4afa2a490dap+0, 0x1.ecf482d8e67f1p+0, 0x1.efa1bee615a27p+0, 0x1.f252b376bba97p+0,
    0x1.f50765b6e4540p+0, 0x1.f7bfdad9cbe14p+0, 0x1.fa7c1819e90d8p+0, 0x1.fd3c22b8f71f1p+0,
};
alignas(64) constexpr double kExp2Lo[128] = {
    0x0p+0, 0x1.b61299ab8cdb7p-54, -0x1.19083535b085dp-56, -0x1.0a31c1977c96ep-54,
    0x1.d73e2a475b465p-55, -0x1.c91dfe2b13c27p-55, 0x1.186be4bb284ffp-57, 0x1.1487818316136p-54,
    0x1.8a62e4adc610bp-54, 0x1.01edc16e24f71p-54, 0x1.03a1727c57b53p-59, -0x1.b9bedc44ebd7bp-57,
    -0x1.6c51039449b3ap-54, -0x1.1b514b36ca5c7p-58, -0x1.32fbf9af1369ep-54, 0x1.2406ab9eeab0ap-55,
    -0x1.19041b9d78a76p-55, -0x1.11023d1970f6cp-54, 0x1.e5b4c7b4968e4p-55, -0x1.95386352ef607p-54,
    0x1.e016e00a2643cp-54, -0x1.1df98027bb78cp-54, 0x1.dc775814a8495p-55, 0x1.2a97e9494a5eep-55,
    0x1.9b07eb6c70573p-54, 0x1.ac155bef4f4a4p-55, 0x1.2bd339940e9d9p-55, -0x1.a4c3a8c3f0d7ep-54,
    0x1.612e8afad1255p-55, -0x1.10adcd6381aa4p-59, 0x1.0024754db41d5p-54, 0x1.1ca0f45d52383p-56,
    0x1.6f46ad23182e4p-55, 0x1.a9ce78e18047cp-55, 0x1.32721843659a6p-54, -0x1.b5cee5c4e4628p-55,
    -0x1.63aeabf42eae2p-54, -0x1.e958d3c9904bdp-54, -0x1.5e436d661f5e3p-56, -0x1.efff8375d29c3p-54,
    0x1.ada0911f09ebcp-55, -0x1.7d023f956f9f3p-54, -0x1.ef3691c309278p-58, -0x1.1c7dde35f7999p-55,
    0x1.89b7a04ef80d0p-59, 0x1.c944bd1648a76p-54, 0x1.3c1a3b69062f0p-56, 0x1.9cb62f3d1be56p-54,
    0x1.d4397afec42e2p-56, 0x1.8ecdbbc6a7833p-54, -0x1.4b309d25957e3p-54, -0x1.f768569bd93efp-55,
    -0x1.07abe1db13cadp-55, -0x1.d689cefede59bp-55, 0x1.9bb2c011d93adp-54, 0x1.295e15b9a1de8p-55,
    0x1.6324c054647adp-54, 0x1.c4b1b816986a2p-60, 0x1.ba6f93080e65ep-54, -0x1.3e2429b56de47p-54,
    -0x1.383c17e40b497p-54, -0x1.c483c759d8933p-55, -0x1.bb60987591c34p-54, 0x1.038ae44f73e65p-57,
    -0x1.bdd3413b26456p-54, -0x1.2895667ff0b0dp-56, -0x1.bbe3a683c88abp-57, -0x1.83c0f25860ef6p-55,
    -0x1.16e4786887a99p-55, -0x1.0a8d96c65d53cp-54, -0x1.0245957316dd3p-54, 0x1.866b80a02162dp-54,
    -0x1.41577ee04992fp-55, 0x1.f124cd1164dd6p-54, 0x1.05d02ba15797ep-56, -0x1.27c86626d972bp-54,
    -0x1.d4c1dd41532d8p-54, -0x1.8d684a341cdfbp-55, -0x1.fc6f89bd4f6bap-54, 0x1.994c2f37cb53ap-54,
    0x1.6e9f156864b27p-54, -0x1.0d55e32e9e3aap-56, 0x1.5cc13a2e3976cp-55, -0x1.dd6792e582524p-54,
    -0x1.75fc781b57ebcp-57, -0x1.64b7c96a5f039p-56, -0x1.d185b7c1b85d1p-54, -0x1.173bd91cee632p-54,
    0x1.c7c46b071f2bep-56, 0x1.824ca78e64c6ep-56, -0x1.359495d1cd533p-54, 0x1.6305c7ddc36abp-54,
    -0x1.d2f6edb8d41e1p-54, 0x1.bcb7ecac563c7p-54, 0x1.0fac90ef7fd31p-54, -0x1.f9234cae76cd0p-55,
    0x1.7a1cd345dcc81p-54, -0x1.bdef54c80e425p-54, -0x1.2805e3084d708p-57, -0x1.c71dfbbba6de3p-54,
    -0x1.5584f7e54ac3bp-56, -0x1.efcd30e54292ep-54, 0x1.23dd07a2d9e84p-55, -0x1.efdca3f6b9c73p-54,
    0x1.11065895048ddp-55, 0x1.b4537e083c60ap-54, 0x1.2884dff483cadp-54, 0x1.1acbc48805c44p-56,
    0x1.503cbd1e949dbp-56, -0x1.dd83b53829d72p-55, -0x1.cbc3743797a9cp-54, -0x1.d487b719d8578p-54,
    0x1.2ed02d75b3707p-55, -0x1.11ec18beddfe8p-54, 0x1.c2300696db532p-54, 0x1.2da5778f018c3p-54,
    -0x1.1a5cd4f184b5cp-54, -0x1.7b627817a1496p-54, 0x1.39e8980a9cc8fp-55, 0x1.2d522ca0c8de2p-54,
    -0x1.e9c23179c2893p-54, -0x1.c93f3b411ad8cp-54, 0x1.dc7f486a4b6b0p-54, 0x1.3a1a5bf0d8e43p-54,
    0x1.9d3e12dd8a18bp-54, -0x1.dbb12d006350ap-54, 0x1.74853f3a5931ep-55, 0x1.2eb74966579e7p-57,
};

// ln2/128 = kStep1 + kStep2 + kStep3 to 2^-129 relative (mpmath); kStep1 and kStep2 have 35
// significant bits, so k · kStep1 and k · kStep2 are exact for |k| < 2^18.
constexpr double kStep1 = 0x1.62e42fefcp-8;
constexpr double kStep2 = -0x1.c610ca86cp-44;
constexpr double kStep3 = -0x1.c4c67fc0d0951p-83;
constexpr double kInvStep = 0x1.71547652b82fep+7;  // 128/ln2
// Adding it rounds to an integer and leaves it in the low mantissa bits (|k| < 2^51).
constexpr double kShifter = 0x1.8p52;
constexpr std::int64_t kShifterBits = 0x4338000000000000;
constexpr std::int64_t kBiasSteps = 1023 * 128;  // the exponent bias, in steps of 1/128

// Shifts below kZeroBelow have the output 0: e^-745.2 < 2^-1075.09, so a softmax output there (the
// term over S >= 1) rounds to +0. Shifts in [kZeroBelow, kHardBelow) are deep: their terms' lo
// parts would be subnormal (below kScaleFloor the scale 2^(k >> 7) itself), so the sums take them
// as they come out, or as 0 below kScaleFloor (each off by less than 2^-1021.8, n of them far below
// what S >= 1 can show; where a log-sum's rest or the gradient's label sum is below kTinyRest it
// could show: accurate's row), and softmax forms their outputs from the unscaled parts, scaled
// exactly where the output is normal: e^u / S >= 2^-1022 (1 + 2^-9) for u >= log S + kNormalFloor
// (-1022 ln 2 = -708.3964). A row with a deep shift below that, or below kScaleFloor, is hard.
constexpr double kZeroBelow = -745.2;
constexpr double kHardBelow = -600;
constexpr double kScaleFloor = -708.3;
constexpr double kNormalFloor = -708.39;
// Log-sums: a rest below this with finite entries under kFarBelow goes to accurate's row.
constexpr double kTinyRest = 0x1p-900;
constexpr double kFarBelow = -745;
// L's error relative to L (header), and logsumexp's cancellation limit relative to |m + L|.
constexpr double kLogError = 0x1p-65;
constexpr double kCancelLimit = 0x1p-61;
// Sigmoid: e^-708.3 > 2^-1021.8, so results for x >= kSigmoidNormalAbove are normal (and the scale
// 2^(k >> 7) >= 2^-1022 too); x in [kZeroBelow, kSigmoidNormalAbove) (subnormal results) and NaN
// go to accurate's sigmoid, x < kZeroBelow gives +0 (σ(x) < e^x < 2^-1075.09). Above
// kSigmoidOneAbove, σ(x) > 1 - 2^-57 rounds to 1, as it does at kSigmoidOneAbove itself.
constexpr double kSigmoidNormalAbove = -708.3;
constexpr double kSigmoidOneAbove = 40;
// Vectors summed in one set of lanes before they join the row's total.
constexpr std::size_t kBlock = 4096;
// softmax_temperature (see "Tempered shifts"): the remainder of (z - m)/t is off by up to 2^-1072
// where its bits reach below 2^-1074, 2^-1072/t in the shift; below kTinyTemperature, z - m and t
// are divided as (z - m) 2^600 / (t 2^600) (the same quotient, exactly), which keeps that below
// 2^-560. Without FMA, Dekker's product splits t times 2^27 + 1, which overflows from 2^997: a t
// from kSplitAbove is split as t 2^-128 against qh 2^128 (the same product, exactly).
constexpr double kTinyTemperature = 0x1p-512;
constexpr double kTemperatureUp = 0x1p600;
constexpr double kSplitAbove = 0x1p512;
constexpr double kSplitScale = 0x1p128;

}  // namespace
}  // namespace softcert::lib
#endif  // SOFTCERT_LIB_SIMD_F64_CONSTANTS_

HWY_BEFORE_NAMESPACE();
namespace softcert::lib {
namespace HWY_NAMESPACE {
namespace {  // internal linkage: simd.cc has per-target names of its own
namespace hn = hwy::HWY_NAMESPACE;
using D = hn::ScalableTag<double>;
using V = hn::Vec<D>;
using DI = hn::RebindToSigned<D>;
using VI = hn::Vec<DI>;
using M = hn::Mask<D>;
using dd::DD;

// ---------------------------------------------------------------------------------------------
// Scalar double-double helpers, compiled per target (std::fma is an instruction where it has one).

HWY_INLINE DD TwoProd(double a, double b) {
  const double p = a * b;
  return {p, std::fma(a, b, -p)};
}

// 1/s for s >= 1: q1 + (1 - s q1) q1, the residual 1 - s_hi q1 exact (FMA): within 2^-104.
HWY_INLINE DD Reciprocal(DD s) {
  const double q1 = 1 / s.hi;
  const double residual = std::fma(-s.hi, q1, 1.0) - s.lo * q1;
  return dd::fast_two_sum(q1, residual * q1);
}

// a · b rounded once, for double-doubles a, b with a normal product: a_hi b_hi as p + its exact
// error, then the cross terms (as pass 3 of softmax does in lanes).
HWY_INLINE double ProductRounded(DD a, DD b) {
  const DD p = TwoProd(a.hi, b.hi);
  return p.hi + (p.lo + a.hi * b.lo + a.lo * b.hi);
}

// e^y - 1 for 0 <= y <= 50 as a double-double, within 2^-71 relative. y = k ln2/128 + r (the
// three-part reduction of the lanes below, r within 2^-100 absolute, |r| <= ln2/256 + 2^-40),
// s = e^r - 1 = r + r^2/2 + r^3 Q(r), r^2 exact (TwoProd), Q the Taylor series to r^5/8!
// (remainder 2^-86 of r) and r^3 Q rounded in double (2^-72.6 of r); then 2^(k/128) (1 + s) - 1
// in double-double, at least 0.0027 where k != 0, so s's absolute error (2^-81) stays below 2^-71.5
// of it.
HWY_INLINE DD ExpM1(double y) {
  const double k = std::nearbyint(y * kInvStep);
  const DD s = dd::two_sum(std::fma(-k, kStep1, y), -k * kStep2);  // both exact
  const DD r = dd::fast_two_sum(s.hi, s.lo - k * kStep3);
  const DD r2 = TwoProd(r.hi, r.hi);
  double q = 1.0 / 40320;
  for (double c : {1.0 / 5040, 1.0 / 720, 1.0 / 120, 1.0 / 24, 1.0 / 6}) q = std::fma(q, r.hi, c);
  const double low = r.lo + r.hi * r.lo + 0.5 * r2.lo + r.hi * r2.hi * q;
  DD e = dd::fast_two_sum(r.hi, 0.5 * r2.hi);
  e = dd::fast_two_sum(e.hi, e.lo + low);
  if (k == 0) return e;
  const auto steps = static_cast<std::int64_t>(k);
  const double th = kExp2Hi[steps & 127], tl = kExp2Lo[steps & 127];
  const DD p = TwoProd(th, e.hi);
  DD x = dd::fast_two_sum(th, p.hi);
  x = dd::fast_two_sum(x.hi, x.lo + (p.lo + th * e.lo + tl * (1 + e.hi)));
  // 2^floor(k / 128), 0 <= floor(k / 128) <= 73, from its bits.
  const double power = std::bit_cast<double>(static_cast<std::uint64_t>((steps >> 7) + 1023) << 52);
  const DD m1 = dd::two_sum(x.hi * power, -1.0);
  return dd::fast_two_sum(m1.hi, m1.lo + x.lo * power);
}

// log1p(x) for a double-double x >= 0 (x < 2^60), within 2^-70 relative: y0 = log1p(x_hi) (glibc,
// within a few ULPs), then one Newton step L = y0 + (x - expm1(y0)) / (1 + expm1(y0)), whose
// neglected term δ^2/2 is below 2^-98 L; x_hi - expm1(y0)_hi is exact (Sterbenz), expm1's error
// passes to L divided by (1 + x) log1p(x) / x >= 1. (A scalar model against mpmath at 50,000 random
// x in [2^-880, 2^31]: 2^-71.0 at most.)
HWY_INLINE DD LogOnePlus(DD x) {
  if (x.hi == 0) return {0, 0};
  const double y0 = std::log1p(x.hi);
  const DD e = ExpM1(y0);
  const double delta = ((x.hi - e.hi) + (x.lo - e.lo)) / (1 + e.hi);
  return dd::fast_two_sum(y0, delta);
}

// ---------------------------------------------------------------------------------------------
// Lanes.

// a + b rounded to odd: a + b where exact, else its neighbour with an odd last bit on the exact
// sum's side. Added to a double s whose ULP is 2^51 times its own or more, the sum rounds as
// s + (a + b) would exactly (rounding to odd keeps the sticky bit that marks "beyond a midpoint").
HWY_INLINE V AddRoundToOdd(D d, V a, V b) {
  const DI di;
  V c, e;
  TwoSum(a, b, c, e);
  const VI bits = hn::BitCast(di, c), zero = hn::Zero(di), one = hn::Set(di, 1);
  const auto even_inexact = hn::And(hn::RebindMask(di, hn::Ne(e, hn::Zero(d))), hn::Eq(hn::And(bits, one), zero));
  // One step away from zero where e has c's sign, toward it otherwise (c != 0 where e != 0).
  const VI step = hn::IfThenElse(hn::Lt(hn::Xor(bits, hn::BitCast(di, e)), zero), hn::Neg(one), one);
  return hn::BitCast(d, hn::IfThenElse(even_inexact, hn::Add(bits, step), bits));
}


// ---------------------------------------------------------------------------------------------
// Terms. t = exp(u), u = z - m <= 0 a double-double uh + ul (TwoSum: exact), as hi + lo with
// |lo| <= ulp(hi)/2, for uh >= kHardBelow:
//   - k = round(uh · 128/ln2) (the shifter; |k| < 2^18), u = k ln2/128 + r: a = uh - k·kStep1
//     exact (k·kStep1 exact and within a factor 2 of uh: Sterbenz), minus k·kStep2 (exact, <=
//     2^-26.7) by Fast2Sum to rh + e (exact where |a| is the larger, else both are below 2^-25.7
//     and its error below 2^-78), rl = e + (ul - k·kStep3) (rounded, |rl| <= 2^-44: 2^-97): r =
//     rh + rl within 2^-77 absolute, |rh| <= ln2/256 + 2^-40 = 0.0027076;
//   - e^r - 1 = rh + w, w = rh^2 Q(rh) + rl (1 + rh + rh^2/2), Q the Taylor series 1/2 + rh/6 + ...
//     + rh^4/720 (degree 6 in all: remainder r^7/7! <= 2^-72); w's roundings <= 2^-69.5, its
//     neglected rl (e^rh - 1 - rh - rh^2/2) + rl^2/2 <= 2^-72;
//   - 2^(k/128) = T_hi + T_lo (table, 2^-104) times 2^(k >> 7) built in the exponent bits (exact:
//     k >> 7 >= -866); hi + lo = T_hi + T_hi rh + [T_hi w + T_lo (1 + rh)], T_hi rh split exactly
//     (FMA or Dekker) and Fast2Sum'd with T_hi, the bracket (<= 2^-17 T_hi) rounded at 2^-70.
// So each term within ε_t = 2^-66.5 (w's 2^-69, the bracket's three roundings 2^-68.4, the series'
// 2^-72). A scalar model of these operations against mpmath exp at 50,000 random shifts in
// [-600, 0], with FMA and with Dekker's product: 2^-68.9 at most. The parts before the scale
// (ExpParts) keep ε_t down to kZeroBelow (|k| < 2^18 still); only the scaling loses lo's bits there
// (subnormal below -671), which the sigmoid avoids by scaling its one result instead.
struct TermLanes {
  V inv_step, shifter, step1, neg_step2, step3, q6, q5, q4, q3, q2, one;
  VI bias, index_mask, exponent_mask;

  explicit TermLanes(D d) {
    const DI di;
    inv_step = hn::Set(d, kInvStep), shifter = hn::Set(d, kShifter);
    step1 = hn::Set(d, kStep1), neg_step2 = hn::Set(d, -kStep2), step3 = hn::Set(d, kStep3);
    q6 = hn::Set(d, 1.0 / 720), q5 = hn::Set(d, 1.0 / 120), q4 = hn::Set(d, 1.0 / 24);
    q3 = hn::Set(d, 1.0 / 6), q2 = hn::Set(d, 0.5), one = hn::Set(d, 1.0);
    bias = hn::Set(di, kShifterBits - kBiasSteps);
    index_mask = hn::Set(di, 127), exponent_mask = hn::Set(di, ~std::int64_t(127));
  }

  // e^u = (h + l) · scale: h + l in [0.99, 2.01), scale = 2^(k >> 7), a normal double where k >> 7
  // >= -1022 (uh >= -708.3).
  HWY_INLINE void ExpParts(D d, V uh, V ul, V& h, V& l, V& scale) const {
    const DI di;
    const V t = hn::MulAdd(uh, inv_step, shifter);
    const V k = hn::Sub(t, shifter);
    V s, e;
    FastTwoSum(hn::NegMulAdd(k, step1, uh), hn::Mul(k, neg_step2), s, e);
    // r = rh + rl, left unnormalised: renormalising would lengthen the chain of dependent
    // operations, which bounds the speed here more than their number does.
    const V rh = s;
    const V rl = hn::Add(e, hn::NegMulAdd(k, step3, ul));
    const V r2 = hn::Mul(rh, rh);
    const V q = hn::MulAdd(hn::MulAdd(q6, r2, hn::MulAdd(q5, rh, q4)), r2, hn::MulAdd(q3, rh, q2));  // Estrin
    const V linear = hn::Mul(rl, hn::MulAdd(hn::MulAdd(rh, q2, one), rh, one));  // rl (1 + rh + rh^2/2)
    const V w = hn::MulAdd(r2, q, linear);
    // t's bits minus the shifter's are k; with the bias, k + 128 · 1023 >= 0 for every shift
    // above kZeroBelow (clamped lanes below it still index the table within its bounds).
    const VI steps = hn::Sub(hn::BitCast(di, t), bias);
    const VI j = hn::And(steps, index_mask);
    const V th = hn::GatherIndex(d, kExp2Hi, j), tl = hn::GatherIndex(d, kExp2Lo, j);
    const V p = hn::Mul(th, rh);
    V h0, e0;
    FastTwoSum(th, p, h0, e0);
    const V l0 = hn::Add(e0, hn::Add(ProductError(d, th, rh, p), hn::MulAdd(th, w, hn::MulAdd(tl, rh, tl))));
    FastTwoSum(h0, l0, h, l);
    scale = hn::BitCast(d, hn::ShiftLeft<45>(hn::And(steps, exponent_mask)));
  }

  HWY_INLINE void Exp(D d, V uh, V ul, V& hi, V& lo) const {
    V h, l, scale;
    ExpParts(d, uh, ul, h, l, scale);
    hi = hn::Mul(h, scale);
    lo = hn::Mul(l, scale);
  }
};

// ---------------------------------------------------------------------------------------------
// Shifts: the passes below take the shift u of an entry z as a type, so that softmax_temperature
// reuses softmax's passes and softmax itself gains no division. Each has the row's max m (pass 2
// pads a partial vector with it: its shift is exactly 0 + 0 either way) and forms uh + ul <= 0.
// uh = -inf where z is -inf or (z - m)/t overflows, ul is NaN there (and, without FMA, where qh is
// too large for Dekker's split): such lanes only ever reach masked terms (kMask: uh < kScaleFloor),
// whose hi and lo are replaced by 0, never a kept one (nor a deep lane of pass 3: uh >= kZeroBelow).

// u = z - m as uh + ul exactly (TwoSum with -m).
struct PlainShift {
  double m;
  V neg_m;
  PlainShift(D d, double max) : m(max), neg_m(hn::Set(d, -max)) {}
  HWY_INLINE void operator()(D, V z, V& uh, V& ul) const { TwoSum(z, neg_m, uh, ul); }
};

// Tempered shifts: u = (z - m)/t for 0 < t < inf as uh + ul. z - m = dh + dl exactly (TwoSum),
// both times `up` (2^600 below kTinyTemperature, else 1: exact, and t up >= 2^-512 then), qh =
// dh/t rounded, the remainder r = dh - qh t, then uh = qh and ul = (r + dl)/t (dh, dl, t scaled).
//   - r: the remainder of a correctly rounded quotient is a double, so one FMA gives it exactly
//     (dh - p, p = qh t rounded, is exact by Sterbenz, and ProductError gives qh t - p exactly,
//     without FMA); only where its bits reach below 2^-1074 is it off, by 2^-1075 with FMA, by
//     2^-1072 at most in Dekker's partial products rounded to the subnormal grid;
//   - ul: |r| <= 2^-53 |qh| t and |dl| <= 2^-53 |dh|, so |ul| <= 2^-52 |u| (1 + 2^-52), rounded
//     twice (sum and quotient): 2^-104 |u|, and 2^-1075 absolute where ul is subnormal.
// So uh + ul is within 2^-104 |u| + 2^-1072/(t up) + 2^-1075 of u: for the shifts pass 2 keeps
// (u >= kHardBelow) 2^-94.8 + 2^-560 + 2^-1075 < 2^-94.7 absolute, a relative error of the term
// e^u of that much (see the header for its place in ε_t). |ul| <= 2^-42.8 is larger than z - m's
// own ul (2^-44 there), which ExpParts's rl and w absorb (header). A lane whose z - m overflows
// when scaled has a shift below -745.2, in a row the scan finds deep: masked.
struct TemperedShift {
  double m;
  V neg_m, up, t;      // t scaled by up
  V t_split, q_scale;  // without FMA: t 2^-128 and 2^128 from kSplitAbove, else t and 1
  TemperedShift(D d, double max, double temperature) : m(max), neg_m(hn::Set(d, -max)) {
    const bool tiny = temperature < kTinyTemperature, huge = temperature >= kSplitAbove;
    up = hn::Set(d, tiny ? kTemperatureUp : 1.0);
    t = hn::Set(d, tiny ? temperature * kTemperatureUp : temperature);
    t_split = huge ? hn::Set(d, temperature / kSplitScale) : t;
    q_scale = hn::Set(d, huge ? kSplitScale : 1.0);
  }
  HWY_INLINE void operator()(D d, V z, V& uh, V& ul) const {
    V dh, dl;
    TwoSum(z, neg_m, dh, dl);
    dh = hn::Mul(dh, up), dl = hn::Mul(dl, up);
    const V qh = hn::Div(dh, t);
#if HWY_NATIVE_FMA
    (void)d;
    const V r = hn::NegMulAdd(qh, t, dh);
#else
    const V p = hn::Mul(qh, t);
    const V r = hn::Sub(hn::Sub(dh, p), ProductError(d, hn::Mul(qh, q_scale), t_split, p));
#endif
    uh = qh;
    ul = hn::Div(hn::Add(r, dl), t);
  }
};

// The term of each lane of shift uh + ul as hi + lo; with kMask, 0 for shifts below kScaleFloor,
// and `deepest` the least shift at or above kZeroBelow.
template <bool kMask>
HWY_INLINE void TermOfShift(D d, const TermLanes& lanes, V uh, V ul, V& hi, V& lo, V& deepest) {
  if constexpr (!kMask) {
    lanes.Exp(d, uh, ul, hi, lo);
    (void)deepest;
  } else {
    const V floor = hn::Set(d, kScaleFloor);
    const M zero = hn::Lt(uh, floor);
    const V inf = hn::Set(d, std::numeric_limits<double>::infinity());
    deepest = hn::Min(deepest, hn::IfThenElse(hn::Lt(uh, hn::Set(d, kZeroBelow)), inf, uh));
    // Clamped so that every lane's table index and scale stay in range (-inf included).
    lanes.Exp(d, hn::Max(uh, floor), ul, hi, lo);
    hi = hn::IfThenZeroElse(zero, hi);
    lo = hn::IfThenZeroElse(zero, lo);
  }
}

// The same for the lanes of z, shifted by `shift`.
template <bool kMask, class Shift>
HWY_INLINE void Term(D d, const TermLanes& lanes, const Shift& shift, V z, V& hi, V& lo, V& deepest) {
  V uh, ul;
  shift(d, z, uh, ul);
  TermOfShift<kMask>(d, lanes, uh, ul, hi, lo, deepest);
}

// A double-double sum in lanes: Sum2 (Ogita, Rump & Oishi), the hi parts by TwoSum.
struct SumLanes {
  V hi, lo;
  explicit SumLanes(D d) : hi(hn::Zero(d)), lo(hn::Zero(d)) {}
  HWY_INLINE void Add(V h, V l) {
    V s, e;
    TwoSum(hi, h, s, e);
    hi = s;
    lo = hn::Add(lo, hn::Add(e, l));
  }
};

// total += the lanes of a and b: a and b joined by TwoSum in lanes, then the lanes one by one, the
// exact errors of the his added to the los (Sum2 again, over 2 + lanes values).
HWY_INLINE void Merge(D d, const SumLanes& a, const SumLanes& b, DD& total) {
  V hi, e;
  TwoSum(a.hi, b.hi, hi, e);
  HWY_ALIGN double h[hn::MaxLanes(d)];
  hn::Store(hi, d, h);
  DD sum{total.hi, 0};
  for (std::size_t i = 0; i < hn::Lanes(d); ++i) {
    const DD s = dd::two_sum(sum.hi, h[i]);
    sum.hi = s.hi, sum.lo += s.lo;
  }
  sum.lo += total.lo + hn::GetLane(hn::SumOfLanes(d, hn::Add(hn::Add(a.lo, b.lo), e)));
  total = dd::fast_two_sum(sum.hi, sum.lo);
}

// Pass 2 over z[0, n): the sum of the terms of `shift` into `sum` (kSplit: of those below the max
// only, the entries equal to it counted in `ties`); kStore keeps each hi at hi_out[i] and lo at
// lo_out[i]. With kMask, `deepest` gets the least shift at or above kZeroBelow.
template <bool kMask, bool kSplit, bool kStore, class Shift>
HWY_INLINE void TermSum(const double* z, std::size_t n, const Shift& shift, double* hi_out, double* lo_out, DD& sum,
                        double& ties, double& deepest) {
  const D d;
  const std::size_t lanes = hn::Lanes(d);
  const TermLanes term(d);
  const double m = shift.m;
  const V vm = hn::Set(d, m), one = hn::Set(d, 1.0);
  V least = hn::Set(d, std::numeric_limits<double>::infinity());
  V tie_count = hn::Zero(d);
  // One vector at i, of `count` entries of the row (all its lanes but in the last vector).
  const auto step = [&](auto partial, std::size_t i, std::size_t count, SumLanes& acc) SOFTCERT_INLINE_LAMBDA {
    constexpr bool kPartial = decltype(partial)::value;
    const V x = kPartial ? LoadPartial(d, z + i, count, m) : hn::LoadU(d, z + i);
    V hi, lo;
    Term<kMask>(d, term, shift, x, hi, lo, least);
    if constexpr (kStore) {
      if constexpr (kPartial) {
        StorePartial(d, hi, hi_out + i, count), StorePartial(d, lo, lo_out + i, count);
      } else {
        hn::StoreU(hi, d, hi_out + i), hn::StoreU(lo, d, lo_out + i);
      }
    }
    M skip = hn::FirstN(d, 0);
    if constexpr (kPartial) skip = hn::Not(hn::FirstN(d, count));
    if constexpr (kSplit) {
      const M at_max = hn::AndNot(skip, hn::Eq(x, vm));
      tie_count = hn::Add(tie_count, hn::IfThenElseZero(at_max, one));
      skip = hn::Or(skip, at_max);
    }
    // The max's term (the padding's too) is exactly 1 + 0: only its hi needs dropping.
    if constexpr (kPartial || kSplit) hi = hn::IfThenZeroElse(skip, hi);
    acc.Add(hi, lo);
  };
  for (std::size_t block = 0; block < n; block += 2 * kBlock * lanes) {
    const std::size_t stop = std::min(n, block + 2 * kBlock * lanes);
    SumLanes a0(d), a1(d);
    std::size_t i = block;
    for (; i + 2 * lanes <= stop; i += 2 * lanes) {
      step(std::false_type(), i, lanes, a0);
      step(std::false_type(), i + lanes, lanes, a1);
    }
    if (i + lanes <= stop) step(std::false_type(), i, lanes, a0), i += lanes;
    if (i < stop) step(std::true_type(), i, stop - i, a1);
    Merge(d, a0, a1, sum);
  }
  if constexpr (kSplit) ties += hn::GetLane(hn::SumOfLanes(d, tie_count));
  if constexpr (kMask) deepest = std::min(deepest, hn::GetLane(hn::MinOfLanes(d, least)));
}

// Whether softmax can form the outputs of a row whose least shift at or above kZeroBelow is
// `deepest` and whose terms sum to S: normal ones (or none deep).
HWY_INLINE bool DeepOutputsNormal(double deepest, DD sum) {
  return deepest >= kHardBelow || (deepest >= kScaleFloor && deepest >= std::log(sum.hi) + kNormalFloor);
}

// Pass 3 of softmax: y_i = (hi_i + lo_i) · (inv.hi + inv.lo) rounded once, hi_i and lo_i stored by
// pass 2 (at terms[i] and terms[n + i]) or recomputed from z with `shift`. With kMask, a vector with
// deep lanes forms theirs as (h + l) · inv rounded once from the term's parts before their scale
// (ExpParts: full precision), then scaled exactly (the row's outputs are normal: DeepOutputsNormal).
template <bool kStored, bool kMask, class Shift>
HWY_INLINE void Normalise(const double* z, std::size_t n, const Shift& shift, const double* terms, double* y, DD inv) {
  const D d;
  const std::size_t lanes = hn::Lanes(d);
  const TermLanes term(d);
  const V inv_hi = hn::Set(d, inv.hi), inv_lo = hn::Set(d, inv.lo);
  const auto quotient = [&](V hi, V lo) {  // (hi + lo) · inv rounded once
    const V p = hn::Mul(hi, inv_hi);
    return hn::Add(p, hn::MulAdd(lo, inv_hi, hn::MulAdd(hi, inv_lo, ProductError(d, hi, inv_hi, p))));
  };
  const auto step = [&](auto partial, std::size_t i, std::size_t count) SOFTCERT_INLINE_LAMBDA {
    constexpr bool kPartial = decltype(partial)::value;
    V hi, lo, uh, ul;
    if constexpr (!kStored || kMask) {  // the shift: for the terms, or for the deep lanes
      shift(d, kPartial ? LoadPartial(d, z + i, count, shift.m) : hn::LoadU(d, z + i), uh, ul);
    }
    if constexpr (kStored) {
      hi = kPartial ? LoadPartial(d, terms + i, count, 0.0) : hn::LoadU(d, terms + i);
      lo = kPartial ? LoadPartial(d, terms + n + i, count, 0.0) : hn::LoadU(d, terms + n + i);
    } else {
      V unused = hn::Zero(d);
      TermOfShift<kMask>(d, term, uh, ul, hi, lo, unused);
    }
    V out = quotient(hi, lo);
    if constexpr (kMask) {
      const M deep = hn::AndNot(hn::Lt(uh, hn::Set(d, kZeroBelow)), hn::Lt(uh, hn::Set(d, kHardBelow)));
      if (HWY_UNLIKELY(!hn::AllFalse(d, deep))) {
        V h, l, scale;
        term.ExpParts(d, hn::Max(uh, hn::Set(d, kScaleFloor)), ul, h, l, scale);
        out = hn::IfThenElse(deep, hn::Mul(quotient(h, l), scale), out);
      }
    }
    if constexpr (kPartial) StorePartial(d, out, y + i, count);
    else hn::StoreU(out, d, y + i);
  };
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes) step(std::false_type(), i, lanes);
  if (i < n) step(std::true_type(), i, n - i);
}

// log_softmax's pass 3: y_i = (uh + ul) - (L.hi + L.lo) rounded once; both parts <= 0: s + e =
// uh - L.hi exactly (TwoSum), and the tail e + (ul - L.lo), below 1.5 ULP of s, rounded to odd and
// added: within 2^-104 of the exact sum, exact midpoints kept apart (z_i - m is a midpoint of the
// double grid whenever it needs one bit more than a double has; then L > 0 decides the side,
// through e = -L.hi where L is below the midpoint's ULP, through L's own error elsewhere).
// -inf where z_i is -inf.
HWY_INLINE void Shifted(const double* z, double* y, std::size_t n, double m, DD l) {
  const D d;
  const std::size_t lanes = hn::Lanes(d);
  const PlainShift shift(d, m);
  const V neg_lh = hn::Set(d, -l.hi), lo = hn::Set(d, l.lo);
  const V neg_inf = hn::Set(d, -std::numeric_limits<double>::infinity());
  const auto step = [&](auto partial, std::size_t i, std::size_t count) SOFTCERT_INLINE_LAMBDA {
    constexpr bool kPartial = decltype(partial)::value;
    const V x = kPartial ? LoadPartial(d, z + i, count, m) : hn::LoadU(d, z + i);
    V uh, ul, s, e;
    shift(d, x, uh, ul);
    TwoSum(uh, neg_lh, s, e);
    const V out = hn::IfThenElse(hn::Eq(x, neg_inf), neg_inf, hn::Add(s, AddRoundToOdd(d, e, hn::Sub(ul, lo))));
    if constexpr (kPartial) StorePartial(d, out, y + i, count);
    else hn::StoreU(out, d, y + i);
  };
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes) step(std::false_type(), i, lanes);
  if (i < n) step(std::true_type(), i, n - i);
}

// ---------------------------------------------------------------------------------------------
// Rows.

// What pass 1 learns about a row.
struct RowInfo {
  bool regular = false;  // no NaN, no +inf, some finite entry (then max is finite)
  bool hard = false;     // some finite entry is 2^1022 or more in magnitude (TwoSum could overflow)
  bool deep = false;     // some entry lies below max + kHardBelow (-inf included): pass 2 masks
  bool far = false;      // some finite entry lies (about) kFarBelow below the max
  double max = 0;
  double low = 0;        // the least entry (-inf included)
};

HWY_INLINE RowInfo ScanRow(const double* z, std::size_t n) {
  const D d;
  const std::size_t lanes = hn::Lanes(d);
  constexpr double kInf = std::numeric_limits<double>::infinity();
  const V pos_inf = hn::Set(d, kInf), neg_inf = hn::Set(d, -kInf);
  V top0 = neg_inf, top1 = neg_inf, low0 = pos_inf, low1 = pos_inf, finite0 = pos_inf, finite1 = pos_inf;
  M nan = hn::FirstN(d, 0);
  const auto scan = [&](V a, V& top, V& low, V& finite) {
    top = hn::Max(top, a), low = hn::Min(low, a);
    finite = hn::Min(finite, hn::IfThenElse(hn::Eq(a, neg_inf), pos_inf, a));  // the min of the finite ones
    nan = hn::Or(nan, hn::IsNaN(a));  // Max drops NaN on some targets
  };
  std::size_t i = 0;
  for (; i + 2 * lanes <= n; i += 2 * lanes) {
    scan(hn::LoadU(d, z + i), top0, low0, finite0);
    scan(hn::LoadU(d, z + i + lanes), top1, low1, finite1);
  }
  for (; i + lanes <= n; i += lanes) scan(hn::LoadU(d, z + i), top0, low0, finite0);
  bool has_nan = !hn::AllFalse(d, nan);
  double top = hn::GetLane(hn::MaxOfLanes(d, hn::Max(top0, top1)));
  double low = hn::GetLane(hn::MinOfLanes(d, hn::Min(low0, low1)));
  double low_finite = hn::GetLane(hn::MinOfLanes(d, hn::Min(finite0, finite1)));
  for (; i < n; ++i) {
    has_nan = has_nan || std::isnan(z[i]);
    top = std::max(top, z[i]), low = std::min(low, z[i]);
    if (z[i] != -kInf) low_finite = std::min(low_finite, z[i]);
  }
  RowInfo row;
  row.regular = !has_nan && std::isfinite(top);
  if (!row.regular) return row;
  row.max = top, row.low = low;
  // Below 2^1022 in magnitude every step of TwoSum(z_i, -max) is finite; beyond, z_i - max or one
  // of its steps can overflow (2^1022 + DBL_MAX does) though the difference may not.
  row.hard = !(top < 0x1p1022 && low_finite > -0x1p1022);
  row.deep = !(low - top >= kHardBelow);
  row.far = !(low_finite - top >= kFarBelow);
  return row;
}

// Calls f with std::true_type where pass 2 must mask (a deep row), std::false_type otherwise.
template <class F>
HWY_INLINE bool WithMask(const RowInfo& row, F&& f) {
  return row.deep ? f(std::true_type()) : f(std::false_type());
}

// softmax of the shifts `shift` forms (z - m, or (z - m)/t) of a regular row that is not hard by
// its scan; false where pass 2 finds it hard. The terms are kept in `terms` (2n doubles; null:
// recomputed), never in y: a row found hard is redone by accurate from z, which y may be.
template <class Shift>
HWY_INLINE bool SoftmaxRow(const double* z, double* y, std::size_t n, const RowInfo& row, double* terms,
                           const Shift& shift) {
  return WithMask(row, [&](auto mask) {
    constexpr bool kMask = decltype(mask)::value;
    DD sum{0, 0};
    double ties = 0, deepest = 0;
    if (terms) {
      TermSum<kMask, false, true>(z, n, shift, terms, terms + n, sum, ties, deepest);
      if (!DeepOutputsNormal(deepest, sum)) return false;
      Normalise<true, kMask>(z, n, shift, terms, y, Reciprocal(sum));
    } else {
      TermSum<kMask, false, false>(z, n, shift, nullptr, nullptr, sum, ties, deepest);
      if (!DeepOutputsNormal(deepest, sum)) return false;
      Normalise<false, kMask>(z, n, shift, nullptr, y, Reciprocal(sum));
    }
    return true;
  });
}

// softmax((z - m)/t) for 0 < t < inf: softmax's passes with the tempered shift.
// `deep` is the scaled spread's ((low - max)/t rounded, the least shift any lane forms, rounding
// being monotonic); `hard` stays the entries' own (TwoSum's range). A row special, hard, or found
// hard by pass 2 is accurate's, with the same t.
void SoftmaxTemperatureRowsF64(const double* x, double* y, std::size_t rows, std::size_t n, double t, double* terms) {
  for (std::size_t r = 0; r < rows; ++r) {
    const double* z = x + r * n;
    double* out = y + r * n;
    RowInfo row = ScanRow(z, n);
    row.deep = !((row.low - row.max) / t >= kHardBelow);
    if (!row.regular || row.hard || !SoftmaxRow(z, out, n, row, terms, TemperedShift(D(), row.max, t))) {
      AccurateSoftmaxTemperatureRow(z, out, n, t);
    }
  }
}

// L = log Σ exp(z_j - m) = log1p(rest) of a regular row that is not hard by its scan, in `l`;
// false where the row is hard.
HWY_INLINE bool LogSum(const double* z, std::size_t n, const RowInfo& row, DD& l) {
  DD below{0, 0};
  double ties = 0, deepest = 0;
  WithMask(row, [&](auto mask) {
    TermSum<decltype(mask)::value, true, false>(z, n, PlainShift(D(), row.max), nullptr, nullptr, below, ties, deepest);
    return true;
  });
  const DD rest = dd::add(DD{ties - 1, 0}, below);
  // The terms dropped below kScaleFloor or deep (each off by < 2^-1021.8) could show in a tiny L.
  if ((row.far || deepest < kHardBelow) && rest.hi < kTinyRest) return false;
  l = LogOnePlus(rest);
  return true;
}

void SoftmaxRowsF64(const double* x, double* y, std::size_t rows, std::size_t n, double* terms) {
  for (std::size_t r = 0; r < rows; ++r) {
    const double* z = x + r * n;
    double* out = y + r * n;
    const RowInfo row = ScanRow(z, n);
    if (!row.regular || row.hard || !SoftmaxRow(z, out, n, row, terms, PlainShift(D(), row.max))) {
      AccurateSoftmaxRow(z, out, n);
    }
  }
}

void LogSoftmaxRowsF64(const double* x, double* y, std::size_t rows, std::size_t n) {
  for (std::size_t r = 0; r < rows; ++r) {
    const double* z = x + r * n;
    double* out = y + r * n;
    const RowInfo row = ScanRow(z, n);
    DD l;
    if (!row.regular || row.hard || !LogSum(z, n, row, l)) {
      AccurateLogSoftmaxRow(z, out, n);
      continue;
    }
    Shifted(z, out, n, row.max, l);
  }
}

void LogsumexpRowsF64(const double* x, double* out, std::size_t rows, std::size_t n) {
  for (std::size_t r = 0; r < rows; ++r) {
    const double* z = x + r * n;
    const RowInfo row = ScanRow(z, n);
    DD l;
    if (row.regular && !row.hard && LogSum(z, n, row, l)) {
      // m + L cancels (m < 0) beyond what L's error allows: accurate's row.
      if (kLogError * l.hi <= kCancelLimit * std::fabs(row.max + l.hi)) {
        out[r] = dd::round_sum(DD{row.max, 0}, l);
        continue;
      }
    }
    out[r] = AccurateLogsumexpRow(z, n);
  }
}

// Cross-entropy (m - z_y) + L: two non-negative numbers, m - z_y exact as a double-double, rounded
// once; +inf where z_y is -inf (its term is 0).
void CrossEntropyRowsF64(const double* x, const std::int64_t* labels, double* loss, std::size_t rows, std::size_t n) {
  for (std::size_t r = 0; r < rows; ++r) {
    const double* z = x + r * n;
    const double zy = z[labels[r]];
    const RowInfo row = ScanRow(z, n);
    DD l;
    if (row.regular && zy == -std::numeric_limits<double>::infinity()) {
      loss[r] = std::numeric_limits<double>::infinity();
    } else if (row.regular && !row.hard && LogSum(z, n, row, l)) {
      loss[r] = dd::round_sum(dd::two_sum(row.max, -zy), l);
    } else {
      loss[r] = AccurateCrossEntropyRow(z, labels[r], n);
    }
  }
}

// The gradient softmax(z) - onehot(y) of a regular row that is not hard by its scan: softmax's
// passes with the label's term summed apart from the rest, so that g_y = -rest / S keeps its bits
// where p_y ≈ 1 (p_y - 1 would cancel); false where the row is hard.
HWY_INLINE bool CrossEntropyGradRow(const double* z, std::size_t label, double* g, std::size_t n, const RowInfo& row,
                                    double* terms) {
  return WithMask(row, [&](auto mask) {
    constexpr bool kMask = decltype(mask)::value;
    const PlainShift shift(D(), row.max);
    const auto passes = [&](auto store) {
      constexpr bool kStore = decltype(store)::value;
      DD rest{0, 0}, own{0, 0};
      double ties = 0, deepest = 0;
      // The terms of z[begin, end) into sum (kept in `terms` with kStore, as SoftmaxRow keeps them).
      const auto part = [&](std::size_t begin, std::size_t end, DD& sum) {
        TermSum<kMask, false, kStore>(z + begin, end - begin, shift, kStore ? terms + begin : nullptr,
                                      kStore ? terms + n + begin : nullptr, sum, ties, deepest);
      };
      part(0, label, rest), part(label, label + 1, own), part(label + 1, n, rest);
      // The terms dropped below kScaleFloor or deep (each off by < 2^-1021.8) could show in a tiny g_y.
      if ((row.far || deepest < kHardBelow) && rest.hi < kTinyRest) return false;
      const DD total = dd::add(rest, own);
      if (!DeepOutputsNormal(deepest, total)) return false;
      const DD inv = Reciprocal(total);
      Normalise<kStore, kMask>(z, n, shift, terms, g, inv);
      g[label] = rest.hi == 0 ? 0.0 : -ProductRounded(rest, inv);  // p - 1 = 1 - 1 = +0
      return true;
    };
    return terms ? passes(std::true_type()) : passes(std::false_type());
  });
}

void CrossEntropyGradRowsF64(const double* x, const std::int64_t* labels, double* g, std::size_t rows, std::size_t n,
                             double* terms) {
  for (std::size_t r = 0; r < rows; ++r) {
    const double* z = x + r * n;
    double* out = g + r * n;
    const auto label = static_cast<std::size_t>(labels[r]);
    const RowInfo row = ScanRow(z, n);
    if (!row.regular || row.hard || !CrossEntropyGradRow(z, label, out, n, row, terms)) {
      AccurateCrossEntropyGradRow(z, labels[r], out, n);
    }
  }
}

// Masked softmax: the row with its masked-out entries -inf, written into y itself, is an ordinary
// softmax row there (passes 2 and 3 read each vector of it before writing that vector), whose -inf
// entries come out exactly +0. A row special after the masking (a kept NaN or +inf, nothing kept
// but -inf) or hard is accurate's, with the keep mask and the original row.
void MaskedSoftmaxRowsF64(const double* x, const std::uint8_t* keep, double* y, std::size_t rows, std::size_t n,
                          double* terms) {
  for (std::size_t r = 0; r < rows; ++r) {
    const double* z = x + r * n;
    const std::uint8_t* k = keep + r * n;
    double* out = y + r * n;
    for (std::size_t i = 0; i < n; ++i) out[i] = k[i] ? z[i] : -std::numeric_limits<double>::infinity();
    const RowInfo row = ScanRow(out, n);
    if (!row.regular || row.hard || !SoftmaxRow(out, out, n, row, terms, PlainShift(D(), row.max))) {
      AccurateMaskedSoftmaxRow(z, k, out, n);
    }
  }
}

// σ(x) = num / (1 + e) · scale: e = e^-|x| = (h + l) 2^E (ExpParts), num = 1 and scale = 1 for
// x >= 0, num = h + l and scale = 2^E below (the quotient formed unscaled, so that lo keeps its
// bits down to the subnormal range; scaling the normal result is exact). The quotient: s + t = 1 +
// e (Fast2Sum, t + l 2^E rounded), q = num_hi (1/s), the residual num - (s + t) q with num_hi - s q
// exact (FMA or Dekker, then Sterbenz), and q + residual/s rounded once. `special` gets the lanes
// for accurate's sigmoid (NaN, subnormal results).
HWY_INLINE V Sigmoid(D d, const TermLanes& term, V x, M& special) {
  const V zero = hn::Zero(d), one = hn::Set(d, 1.0);
  const M negative = hn::Lt(x, zero);
  // Clamped where the result is 1, accurate's or 0 anyway: the table index and the scale in range.
  const V floor = hn::IfThenElse(negative, hn::Set(d, kSigmoidNormalAbove), hn::Set(d, -kSigmoidOneAbove));
  V h, l, scale;
  term.ExpParts(d, hn::Max(hn::Neg(hn::Abs(x)), floor), zero, h, l, scale);
  V s, t;
  FastTwoSum(one, hn::Mul(h, scale), s, t);
  t = hn::MulAdd(l, scale, t);
  const V num_hi = hn::IfThenElse(negative, h, one), num_lo = hn::IfThenElseZero(negative, l);
  const V inv = hn::Div(one, s);
  const V q = hn::Mul(num_hi, inv);
  const V p = hn::Mul(s, q);
  const V leading = hn::Sub(hn::Sub(num_hi, p), ProductError(d, s, q, p));  // num_hi - s q, exactly
  const V residual = hn::NegMulAdd(t, q, hn::Add(leading, num_lo));
  const V out = hn::Mul(hn::MulAdd(residual, inv, q), hn::IfThenElse(negative, scale, one));
  const V zero_below = hn::Set(d, kZeroBelow);
  special = hn::Or(hn::IsNaN(x), hn::And(hn::Ge(x, zero_below), hn::Lt(x, hn::Set(d, kSigmoidNormalAbove))));
  return hn::IfThenZeroElse(hn::Lt(x, zero_below), out);
}

void SigmoidF64(const double* x, double* y, std::size_t count) {
  const D d;
  const std::size_t lanes = hn::Lanes(d);
  const TermLanes term(d);
  const auto step = [&](auto partial, std::size_t i, std::size_t n) SOFTCERT_INLINE_LAMBDA {
    constexpr bool kPartial = decltype(partial)::value;
    const V v = kPartial ? LoadPartial(d, x + i, n, 0.0) : hn::LoadU(d, x + i);
    M special;
    const V out = Sigmoid(d, term, v, special);
    if (HWY_UNLIKELY(!hn::AllFalse(d, special))) {
      // The inputs kept apart first: y may be x.
      HWY_ALIGN double in[hn::MaxLanes(d)], res[hn::MaxLanes(d)];
      hn::Store(v, d, in), hn::Store(out, d, res);
      for (std::size_t j = 0; j < n; ++j) {
        if (std::isnan(in[j]) || (in[j] >= kZeroBelow && in[j] < kSigmoidNormalAbove)) res[j] = AccurateSigmoid(in[j]);
      }
      std::copy(res, res + n, y + i);
    } else if constexpr (kPartial) {
      StorePartial(d, out, y + i, n);
    } else {
      hn::StoreU(out, d, y + i);
    }
  };
  std::size_t i = 0;
  for (; i + lanes <= count; i += lanes) step(std::false_type(), i, lanes);
  if (i < count) step(std::true_type(), i, count - i);
}

}  // namespace
}  // namespace HWY_NAMESPACE
}  // namespace softcert::lib
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace softcert::lib {

HWY_EXPORT(SoftmaxRowsF64);
HWY_EXPORT(LogSoftmaxRowsF64);
HWY_EXPORT(LogsumexpRowsF64);
HWY_EXPORT(CrossEntropyRowsF64);
HWY_EXPORT(CrossEntropyGradRowsF64);
HWY_EXPORT(MaskedSoftmaxRowsF64);
HWY_EXPORT(SigmoidF64);
HWY_EXPORT(SoftmaxTemperatureRowsF64);

namespace {

const Implementation& accurate() {
  static const Implementation acc = make_accurate();
  return acc;
}

void AccurateSoftmaxRow(const double* z, double* y, std::size_t n) { accurate().f64.softmax(z, y, 1, n); }
void AccurateLogSoftmaxRow(const double* z, double* y, std::size_t n) { accurate().f64.log_softmax(z, y, 1, n); }
double AccurateLogsumexpRow(const double* z, std::size_t n) {
  double out = 0;
  accurate().f64.logsumexp(z, &out, 1, n);
  return out;
}

double AccurateCrossEntropyRow(const double* z, std::int64_t label, std::size_t n) {
  double out = 0;
  accurate().f64.cross_entropy(z, &label, &out, 1, n);
  return out;
}
void AccurateCrossEntropyGradRow(const double* z, std::int64_t label, double* g, std::size_t n) {
  accurate().f64.cross_entropy_grad(z, &label, g, 1, n);
}
void AccurateMaskedSoftmaxRow(const double* z, const std::uint8_t* keep, double* y, std::size_t n) {
  accurate().f64.masked_softmax(z, keep, y, 1, n);
}
double AccurateSigmoid(double x) {
  double out = 0;
  accurate().f64.sigmoid(&x, &out, 1);
  return out;
}
void AccurateSoftmaxTemperatureRow(const double* z, double* y, std::size_t n, double t) {
  accurate().f64.softmax_temperature(z, y, 1, n, t);
}


}  // namespace

int simd_softmax_f64(const double* x, double* y, std::size_t rows, std::size_t n) {
  if (int e = check_rows<double>(x, y, rows, n)) return e;
  HWY_DYNAMIC_DISPATCH(SoftmaxRowsF64)(x, y, rows, n, scratch<double>(2 * n));
  return SOFTCERT_OK;
}

int simd_log_softmax_f64(const double* x, double* y, std::size_t rows, std::size_t n) {
  if (int e = check_rows<double>(x, y, rows, n)) return e;
  HWY_DYNAMIC_DISPATCH(LogSoftmaxRowsF64)(x, y, rows, n);
  return SOFTCERT_OK;
}

int simd_logsumexp_f64(const double* x, double* out, std::size_t rows, std::size_t n) {
  if (int e = check_rows<double>(x, out, rows, n)) return e;
  HWY_DYNAMIC_DISPATCH(LogsumexpRowsF64)(x, out, rows, n);
  return SOFTCERT_OK;
}

int simd_cross_entropy_f64(const double* z, const std::int64_t* labels, double* loss, std::size_t rows, std::size_t n) {
  if (int e = check_labelled_rows<double>(z, labels, loss, rows, n)) return e;
  HWY_DYNAMIC_DISPATCH(CrossEntropyRowsF64)(z, labels, loss, rows, n);
  return SOFTCERT_OK;
}

int simd_cross_entropy_grad_f64(const double* z, const std::int64_t* labels, double* grad, std::size_t rows,
                                std::size_t n) {
  if (int e = check_labelled_rows<double>(z, labels, grad, rows, n)) return e;
  HWY_DYNAMIC_DISPATCH(CrossEntropyGradRowsF64)(z, labels, grad, rows, n, scratch<double>(2 * n));
  return SOFTCERT_OK;
}

int simd_masked_softmax_f64(const double* x, const std::uint8_t* keep, double* y, std::size_t rows, std::size_t n) {
  if (keep == nullptr) return SOFTCERT_ERR_NULL;
  if (int e = check_rows<double>(x, y, rows, n)) return e;
  HWY_DYNAMIC_DISPATCH(MaskedSoftmaxRowsF64)(x, keep, y, rows, n, scratch<double>(2 * n));
  return SOFTCERT_OK;
}

int simd_sigmoid_f64(const double* x, double* y, std::size_t count) {
  if (int e = check_rows<double>(x, y, 1, count)) return e;
  HWY_DYNAMIC_DISPATCH(SigmoidF64)(x, y, count);
  return SOFTCERT_OK;
}

int simd_softmax_temperature_f64(const double* x, double* y, std::size_t rows, std::size_t n, double t) {
  if (int e = check_rows<double>(x, y, rows, n)) return e;
  if (!(t > 0) || !std::isfinite(t)) return SOFTCERT_ERR_TEMPERATURE;
  // At t = 1 the tempered shift is exact (qh = dh, r = 0, ul = dl): softmax's own passes give the
  // same bits without the divisions.
  if (t == 1) HWY_DYNAMIC_DISPATCH(SoftmaxRowsF64)(x, y, rows, n, scratch<double>(2 * n));
  else HWY_DYNAMIC_DISPATCH(SoftmaxTemperatureRowsF64)(x, y, rows, n, t, scratch<double>(2 * n));
  return SOFTCERT_OK;
}

}  // namespace softcert::lib
#endif  // HWY_ONCE

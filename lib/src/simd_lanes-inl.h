// What simd's kernel files (simd.cc, simd_backward.cc, simd_f64.cc) share, per target:
//   - the last, partial vector of a row, through a buffer of whole lanes, since Highway 1.0's
//     MaskedLoad and BlendedStore may touch every lane's bytes on some targets;
//   - the error-free transformations in lanes: TwoSum, Fast2Sum, the exact error of a product;
//   - SOFTCERT_INLINE_LAMBDA and SOFTCERT_UNROLL2.
// Highway's "-inl.h" convention: each file's foreach_target pass includes it once per target.
#if defined(SOFTCERT_LIB_SIMD_LANES_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef SOFTCERT_LIB_SIMD_LANES_INL_H_
#undef SOFTCERT_LIB_SIMD_LANES_INL_H_
#else
#define SOFTCERT_LIB_SIMD_LANES_INL_H_
#endif

#include <algorithm>
#include <cstddef>

#include <hwy/highway.h>

// SOFTCERT_INLINE_LAMBDA: for a lambda GCC would keep out of line: a loop's step (a call per
// vector, its vectors passed through memory) or EachLogSum's group (about 500 more instructions
// per group of cross_entropy at n = 128 without it, callgrind).
// SOFTCERT_UNROLL2: before a loop of one vector per step whose step is short (passes 2 and 3,
// sigmoid, the gradient's pass 2): two steps per iteration, the same operations in the same
// order. The loop's own increment, compare and branch were 3 of pass 2's 36 instructions per
// vector; unrolled, softmax runs 4% fewer instructions per element and log_softmax 9% (callgrind).
// Both GCC only: clang inlines and unrolls these itself, and forced inlining under ASan (the fuzz
// build) took simd.cc from about 4 minutes of compile time to more than 14.
#ifndef SOFTCERT_INLINE_LAMBDA
#if defined(__GNUC__) && !defined(__clang__)
#define SOFTCERT_INLINE_LAMBDA __attribute__((always_inline))
#define SOFTCERT_UNROLL2 _Pragma("GCC unroll 2")
#else
#define SOFTCERT_INLINE_LAMBDA
#define SOFTCERT_UNROLL2
#endif
#endif

HWY_BEFORE_NAMESPACE();
namespace softcert::lib {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// count lanes from p, the rest `pad`.
template <class D>
HWY_INLINE hn::Vec<D> LoadPartial(D d, const hn::TFromD<D>* p, std::size_t count, hn::TFromD<D> pad = 0) {
  HWY_ALIGN hn::TFromD<D> lanes[hn::MaxLanes(d)];
  std::fill(lanes, lanes + hn::Lanes(d), pad);
  std::copy(p, p + count, lanes);
  return hn::Load(d, lanes);
}

// The first count lanes of v to p.
template <class D>
HWY_INLINE void StorePartial(D d, hn::Vec<D> v, hn::TFromD<D>* p, std::size_t count) {
  HWY_ALIGN hn::TFromD<D> lanes[hn::MaxLanes(d)];
  hn::Store(v, d, lanes);
  std::copy(lanes, lanes + count, p);
}

// a + b = s + e exactly, any magnitudes (Knuth's TwoSum), barring overflow.
template <class V>
HWY_INLINE void TwoSum(V a, V b, V& s, V& e) {
  s = hn::Add(a, b);
  const V bb = hn::Sub(s, a);
  e = hn::Add(hn::Sub(a, hn::Sub(s, bb)), hn::Sub(b, bb));
}

// a + b = s + e exactly where |a| >= |b| (or a's exponent is at least b's): Dekker's Fast2Sum.
template <class V>
HWY_INLINE void FastTwoSum(V a, V b, V& s, V& e) {
  s = hn::Add(a, b);
  e = hn::Sub(b, hn::Sub(s, a));
}

// a · b - p exactly, p = a · b rounded (no underflow): one FMA, or Dekker's product from
// Veltkamp's splits where the target has no FMA (its MulSub would round twice).
template <class D>
HWY_INLINE hn::Vec<D> ProductError(D d, hn::Vec<D> a, hn::Vec<D> b, hn::Vec<D> p) {
#if HWY_NATIVE_FMA
  (void)d;
  return hn::MulSub(a, b, p);
#else
  // 2^ceil(digits/2) + 1: splits a significand into two halves whose products are exact.
  const auto splitter = hn::Set(d, static_cast<hn::TFromD<D>>(sizeof(hn::TFromD<D>) == 8 ? 0x1.0000002p27 : 0x1.001p12));
  const auto ca = hn::Mul(a, splitter), cb = hn::Mul(b, splitter);
  const auto a1 = hn::Sub(ca, hn::Sub(ca, a)), b1 = hn::Sub(cb, hn::Sub(cb, b));
  const auto a2 = hn::Sub(a, a1), b2 = hn::Sub(b, b1);
  const auto high = hn::Add(hn::Add(hn::Sub(hn::Mul(a1, b1), p), hn::Mul(a1, b2)), hn::Mul(a2, b1));
  return hn::Add(high, hn::Mul(a2, b2));
#endif
}

}  // namespace HWY_NAMESPACE
}  // namespace softcert::lib
HWY_AFTER_NAMESPACE();

#endif  // SOFTCERT_LIB_SIMD_LANES_INL_H_

// The last, partial vector of a row, for simd.cc and simd_backward.cc: through a buffer of whole
// lanes, since Highway 1.0's MaskedLoad and BlendedStore may touch every lane's bytes on some
// targets. Highway's "-inl.h" convention: each file's foreach_target pass includes it once per
// target.
#if defined(SOFTCERT_LIB_SIMD_PARTIAL_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef SOFTCERT_LIB_SIMD_PARTIAL_INL_H_
#undef SOFTCERT_LIB_SIMD_PARTIAL_INL_H_
#else
#define SOFTCERT_LIB_SIMD_PARTIAL_INL_H_
#endif

#include <algorithm>
#include <cstddef>

#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace softcert::lib {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// count lanes from p, the rest `pad`.
template <class DF>
HWY_INLINE hn::Vec<DF> LoadPartial(DF df, const float* p, std::size_t count, float pad = 0.0f) {
  HWY_ALIGN float lanes[hn::MaxLanes(df)];
  std::fill(lanes, lanes + hn::Lanes(df), pad);
  std::copy(p, p + count, lanes);
  return hn::Load(df, lanes);
}

// The first count lanes of v to p.
template <class DF>
HWY_INLINE void StorePartial(DF df, hn::Vec<DF> v, float* p, std::size_t count) {
  HWY_ALIGN float lanes[hn::MaxLanes(df)];
  hn::Store(v, df, lanes);
  std::copy(lanes, lanes + count, p);
}

}  // namespace HWY_NAMESPACE
}  // namespace softcert::lib
HWY_AFTER_NAMESPACE();

#endif  // SOFTCERT_LIB_SIMD_PARTIAL_INL_H_

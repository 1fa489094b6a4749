// hostile-ftz_daz: every softmax call (f32 and f64) computes its output correctly, then sets the
// FTZ (flush to zero, bit 15) and DAZ (denormals are zero, bit 6) bits of the SSE control register
// MXCSR and returns with them still set: from then on, in that thread, subnormal results and inputs
// of SSE arithmetic are zero.
// In the wild: a library built with -ffast-math (crtfastmath.o sets FTZ/DAZ when it is loaded), or
// a kernel that sets them for speed and never restores them.
// A certifier must compare MXCSR after the call with the value before and report a failed check:
// left FTZ/DAZ set (and restore it before going on).
// x86 only: on other architectures (AArch64 has FPCR.FZ, not set here) the call is correct and the
// plugin is not hostile; tests must expect a pass there or skip it.
#include "common.hpp"

#if defined(__x86_64__) || (defined(__i386__) && defined(__SSE__))
#include <xmmintrin.h>
#define HOSTILE_HAVE_MXCSR 1
#endif

namespace {
template <typename T>
int kernel(const T* x, T* y, size_t rows, size_t n) {
  const int status = hostile::softmax(x, y, rows, n);
#ifdef HOSTILE_HAVE_MXCSR
  constexpr unsigned kFtz = 0x8000u, kDaz = 0x0040u;  // _MM_FLUSH_ZERO_ON, _MM_DENORMALS_ZERO_ON
  _mm_setcsr(_mm_getcsr() | kFtz | kDaz);             // and never set back
#endif
  return status;
}
}  // namespace

HOSTILE_PLUGIN("ftz_daz")
HOSTILE_EXPORT_SOFTMAX(kernel)

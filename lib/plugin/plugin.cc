// lib's algorithms as plugins (DESIGN.md §3). This one source is built once per algorithm:
// SOFTCERT_PLUGIN_ALGORITHM names it, and SOFTCERT_PLUGIN_SOFTMAX_FAMILY_ONLY is set for an
// algorithm that provides only softmax, log_softmax and logsumexp (online). Each plugin exports
// exactly the kernels its algorithm provides, so the certifier's "what is exported" is "what is
// implemented"; lib/test/plugin_test.cc checks that against the registry. Every exported kernel
// forwards to the registry's table: the plugin computes what the C++ API computes, bit for bit.
#include <stddef.h>
#include <stdint.h>

#include "abi_kernels.hpp"
#include "softcert/abi.h"
#include "softcert/implementation.hpp"

#ifndef SOFTCERT_PLUGIN_ALGORITHM
#error "SOFTCERT_PLUGIN_ALGORITHM must name a lib algorithm"
#endif
#ifndef SOFTCERT_PLUGIN_SOFTMAX_FAMILY_ONLY
#define SOFTCERT_PLUGIN_SOFTMAX_FAMILY_ONLY 0
#endif

// Everything else is hidden (-fvisibility=hidden, and lib's own symbols excluded at link time).
#define SOFTCERT_EXPORT extern "C" __attribute__((visibility("default")))

namespace {
const softcert::Implementation& impl() {
  static const softcert::Implementation& found = *softcert::find_builtin(SOFTCERT_PLUGIN_ALGORITHM);
  return found;
}
}  // namespace

SOFTCERT_EXPORT int softcert_abi_version(void) { return SOFTCERT_ABI_VERSION; }
SOFTCERT_EXPORT const char* softcert_name(void) { return "softcert-" SOFTCERT_PLUGIN_ALGORITHM; }

#define SOFTCERT_EXPORT_KERNEL(name, dtype, params, args) \
  SOFTCERT_EXPORT int softcert_##name##_##dtype params { return impl().dtype.name args; }

SOFTCERT_ABI_SOFTMAX_FAMILY(SOFTCERT_EXPORT_KERNEL, float, f32)
SOFTCERT_ABI_SOFTMAX_FAMILY(SOFTCERT_EXPORT_KERNEL, double, f64)
SOFTCERT_ABI_REDUCED_KERNELS(SOFTCERT_EXPORT_KERNEL, f16)
SOFTCERT_ABI_REDUCED_KERNELS(SOFTCERT_EXPORT_KERNEL, bf16)
#if !SOFTCERT_PLUGIN_SOFTMAX_FAMILY_ONLY
SOFTCERT_ABI_OTHER_KERNELS(SOFTCERT_EXPORT_KERNEL, float, f32)
SOFTCERT_ABI_OTHER_KERNELS(SOFTCERT_EXPORT_KERNEL, double, f64)
#endif

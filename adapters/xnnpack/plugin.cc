// XNNPACK behind the plugin ABI (DESIGN.md §3): the library's own operators, run on the calling
// thread (no pthreadpool).
//   softmax  xnn_create_softmax_nc_f32 (channels = n, batch = rows)   f32
//   sigmoid  xnn_create_sigmoid_nc_f32 (channels = 1, batch = count)  f32
// This XNNPACK (Debian 0.0~git20220216) has no f16 softmax or sigmoid operator and no f64 at all,
// so nothing else is exported.
//
// XNNPACK's micro-kernels may read up to XNN_EXTRA_BYTES past the end of an input (xnnpack.h), so
// each call copies the input into a padded private buffer: the caller's array is never read out
// of bounds. The result goes to a private buffer too and reaches the caller's output only on
// success (an error never writes). One call at a time (a mutex): operators are created per call,
// and xnn_initialize runs once.
#include <xnnpack.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <mutex>
#include <new>
#include <stdexcept>
#include <vector>

#include "softcert/abi.h"

#ifndef SOFTCERT_XNNPACK_VERSION
#define SOFTCERT_XNNPACK_VERSION "unknown version"
#endif

#define SOFTCERT_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

struct Context {
  bool initialized = false;
  std::mutex mutex;
};

Context& context() {
  static Context* c = [] {
    auto* ctx = new Context;  // never destroyed, and never xnn_deinitialize'd: exit order is not ours
    ctx->initialized = xnn_initialize(nullptr) == xnn_status_success;
    return ctx;
  }();
  return *c;
}

int check_rows(const void* in, const void* out, std::size_t rows, std::size_t n) {
  if (in == nullptr || out == nullptr) return SOFTCERT_ERR_NULL;
  if (rows == 0 || n == 0) return SOFTCERT_ERR_EMPTY;
  if (n > std::numeric_limits<std::size_t>::max() / rows / sizeof(float)) return SOFTCERT_ERR_SIZE;
  return SOFTCERT_OK;
}

// The operator is deleted on every path out.
struct Operator {
  xnn_operator_t op = nullptr;
  ~Operator() { if (op) xnn_delete_operator(op); }
};

using Create = xnn_status (*)(std::size_t, std::size_t, std::size_t, std::uint32_t, xnn_operator_t*);
using Setup = xnn_status (*)(xnn_operator_t, std::size_t, const float*, float*, pthreadpool_t);

// One XNNPACK NC operator over batch rows of `channels` floats; any failure declines.
int run(Create create, Setup setup, const float* x, float* y, std::size_t batch, std::size_t channels) {
  if (int e = check_rows(x, y, batch, channels)) return e;
  try {
    Context& ctx = context();
    std::lock_guard<std::mutex> lock(ctx.mutex);
    if (!ctx.initialized) return SOFTCERT_ERR_UNSUPPORTED;  // e.g. a CPU XNNPACK does not support
    const std::size_t count = batch * channels;
    std::vector<float> in(count + XNN_EXTRA_BYTES / sizeof(float));
    std::vector<float> out(count + XNN_EXTRA_BYTES / sizeof(float));
    std::memcpy(in.data(), x, count * sizeof(float));
    Operator op;
    if (create(channels, channels, channels, 0, &op.op) != xnn_status_success) return SOFTCERT_ERR_UNSUPPORTED;
    if (setup(op.op, batch, in.data(), out.data(), nullptr) != xnn_status_success) return SOFTCERT_ERR_UNSUPPORTED;
    if (xnn_run_operator(op.op, nullptr) != xnn_status_success) return SOFTCERT_ERR_UNSUPPORTED;
    std::memcpy(y, out.data(), count * sizeof(float));
    return SOFTCERT_OK;
  } catch (const std::bad_alloc&) {
    return SOFTCERT_ERR_SIZE;
  } catch (const std::length_error&) {  // the padded copy does not fit
    return SOFTCERT_ERR_SIZE;
  } catch (...) {
    return SOFTCERT_ERR_UNSUPPORTED;
  }
}

}  // namespace

SOFTCERT_EXPORT int softcert_abi_version(void) { return SOFTCERT_ABI_VERSION; }

// XNNPACK has no version query at run time: the Debian package version, recorded at build time.
SOFTCERT_EXPORT const char* softcert_name(void) { return "XNNPACK " SOFTCERT_XNNPACK_VERSION; }

SOFTCERT_EXPORT int softcert_softmax_f32(const float* x, float* y, size_t rows, size_t n) {
  return run(xnn_create_softmax_nc_f32, xnn_setup_softmax_nc_f32, x, y, rows, n);
}
SOFTCERT_EXPORT int softcert_sigmoid_f32(const float* x, float* y, size_t count) {
  return run(xnn_create_sigmoid_nc_f32, xnn_setup_sigmoid_nc_f32, x, y, count, 1);
}

// lib's algorithms as plugins (DESIGN.md §3). This one source is built once per algorithm;
// SOFTCERT_PLUGIN_ALGORITHM names it. Each plugin exports exactly the kernels its algorithm
// provides, so the certifier's "what is exported" is "what is implemented"; the test
// lib/test/plugin_test.cc checks that against the registry.
#include <string>

#include "softcert/abi.h"
#include "softcert/implementation.hpp"

#ifndef SOFTCERT_PLUGIN_ALGORITHM
#error "SOFTCERT_PLUGIN_ALGORITHM must name a lib algorithm"
#endif

#define SOFTCERT_EXPORT extern "C" __attribute__((visibility("default")))

namespace {
const softcert::Implementation& impl() {
  static const softcert::Implementation& found = *softcert::find_builtin(SOFTCERT_PLUGIN_ALGORITHM);
  return found;
}
const std::string& plugin_name() {
  static const std::string name = std::string("softcert-") + SOFTCERT_PLUGIN_ALGORITHM;
  return name;
}
}  // namespace

SOFTCERT_EXPORT int softcert_abi_version(void) { return SOFTCERT_ABI_VERSION; }
SOFTCERT_EXPORT const char* softcert_name(void) { return plugin_name().c_str(); }

// The softmax family: every algorithm has it.
SOFTCERT_EXPORT int softcert_softmax_f32(const float* x, float* y, size_t rows, size_t n) { return impl().f32.softmax(x, y, rows, n); }
SOFTCERT_EXPORT int softcert_softmax_f64(const double* x, double* y, size_t rows, size_t n) { return impl().f64.softmax(x, y, rows, n); }
SOFTCERT_EXPORT int softcert_log_softmax_f32(const float* x, float* y, size_t rows, size_t n) { return impl().f32.log_softmax(x, y, rows, n); }
SOFTCERT_EXPORT int softcert_log_softmax_f64(const double* x, double* y, size_t rows, size_t n) { return impl().f64.log_softmax(x, y, rows, n); }
SOFTCERT_EXPORT int softcert_logsumexp_f32(const float* x, float* out, size_t rows, size_t n) { return impl().f32.logsumexp(x, out, rows, n); }
SOFTCERT_EXPORT int softcert_logsumexp_f64(const double* x, double* out, size_t rows, size_t n) { return impl().f64.logsumexp(x, out, rows, n); }

#if !SOFTCERT_PLUGIN_SOFTMAX_FAMILY_ONLY
SOFTCERT_EXPORT int softcert_softmax_temperature_f32(const float* x, float* y, size_t rows, size_t n, float t) { return impl().f32.softmax_temperature(x, y, rows, n, t); }
SOFTCERT_EXPORT int softcert_softmax_temperature_f64(const double* x, double* y, size_t rows, size_t n, double t) { return impl().f64.softmax_temperature(x, y, rows, n, t); }
SOFTCERT_EXPORT int softcert_sigmoid_f32(const float* x, float* y, size_t count) { return impl().f32.sigmoid(x, y, count); }
SOFTCERT_EXPORT int softcert_sigmoid_f64(const double* x, double* y, size_t count) { return impl().f64.sigmoid(x, y, count); }
SOFTCERT_EXPORT int softcert_cross_entropy_f32(const float* z, const int64_t* labels, float* loss, size_t rows, size_t n) { return impl().f32.cross_entropy(z, labels, loss, rows, n); }
SOFTCERT_EXPORT int softcert_cross_entropy_f64(const double* z, const int64_t* labels, double* loss, size_t rows, size_t n) { return impl().f64.cross_entropy(z, labels, loss, rows, n); }
SOFTCERT_EXPORT int softcert_cross_entropy_grad_f32(const float* z, const int64_t* labels, float* grad, size_t rows, size_t n) { return impl().f32.cross_entropy_grad(z, labels, grad, rows, n); }
SOFTCERT_EXPORT int softcert_cross_entropy_grad_f64(const double* z, const int64_t* labels, double* grad, size_t rows, size_t n) { return impl().f64.cross_entropy_grad(z, labels, grad, rows, n); }
SOFTCERT_EXPORT int softcert_softmax_backward_f32(const float* y, const float* dy, float* dx, size_t rows, size_t n) { return impl().f32.softmax_backward(y, dy, dx, rows, n); }
SOFTCERT_EXPORT int softcert_softmax_backward_f64(const double* y, const double* dy, double* dx, size_t rows, size_t n) { return impl().f64.softmax_backward(y, dy, dx, rows, n); }
SOFTCERT_EXPORT int softcert_masked_softmax_f32(const float* x, const uint8_t* keep, float* y, size_t rows, size_t n) { return impl().f32.masked_softmax(x, keep, y, rows, n); }
SOFTCERT_EXPORT int softcert_masked_softmax_f64(const double* x, const uint8_t* keep, double* y, size_t rows, size_t n) { return impl().f64.masked_softmax(x, keep, y, rows, n); }
SOFTCERT_EXPORT int softcert_attention_f32(const float* q, const float* k, const float* v, float* out, size_t lq, size_t lk, size_t d, size_t dv, int causal) { return impl().f32.attention(q, k, v, out, lq, lk, d, dv, causal); }
SOFTCERT_EXPORT int softcert_attention_f64(const double* q, const double* k, const double* v, double* out, size_t lq, size_t lk, size_t d, size_t dv, int causal) { return impl().f64.attention(q, k, v, out, lq, lk, d, dv, causal); }
#endif

// oneDNN behind the plugin ABI (DESIGN.md §3): the library's own CPU primitives on a rows × n
// tensor (format ab, softmax axis 1: one softmax per row).
//   softmax          softmax_v2_forward, algorithm::softmax_accurate   f32, bf16, f16
//   log_softmax      softmax_v2_forward, algorithm::softmax_log        f32, bf16, f16
//   softmax_backward softmax_v2_backward, algorithm::softmax_accurate  f32
//   sigmoid          eltwise_forward, algorithm::eltwise_logistic      f32
// oneDNN's CPU engine has no f64 for these. bf16 and f16 primitives exist only on some CPUs
// (bf16 needs avx512_core or newer in 2.6): where primitive creation fails the call declines with
// SOFTCERT_ERR_UNSUPPORTED, so a certificate reads "declined", not a failure. oneDNN's bf16 and
// f16 memory hold the very bit patterns the ABI passes, so those buffers go through unchanged.
//
// Each call: validate (abi.h's order), run the primitive into a private buffer, and only on
// success copy it into the caller's output (an error never writes). oneDNN's primitive cache
// keeps repeated shapes cheap. One call at a time (a mutex): the certifier may call from
// several threads, and each call runs oneDNN on one thread.
#include <oneapi/dnnl/dnnl.hpp>
#if DNNL_CPU_THREADING_RUNTIME == DNNL_RUNTIME_OMP
#include <omp.h>
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "softcert/abi.h"

#define SOFTCERT_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

using dnnl::algorithm;
using dnnl::memory;
using dnnl::prop_kind;

struct Context {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  std::mutex mutex;
};

Context& context() {
  static Context* c = new Context;  // never destroyed: oneDNN's teardown at exit is not ours to order
  return *c;
}

// Runs oneDNN on the calling thread only, and gives the caller its own OpenMP setting back.
class OneThread {
 public:
#if DNNL_CPU_THREADING_RUNTIME == DNNL_RUNTIME_OMP
  OneThread() : saved_(omp_get_max_threads()) { omp_set_num_threads(1); }
  ~OneThread() { omp_set_num_threads(saved_); }

 private:
  int saved_;
#endif
};

int check_rows(const void* in, const void* out, std::size_t rows, std::size_t n, std::size_t element) {
  if (in == nullptr || out == nullptr) return SOFTCERT_ERR_NULL;
  if (rows == 0 || n == 0) return SOFTCERT_ERR_EMPTY;
  if (n > std::numeric_limits<std::size_t>::max() / rows / element) return SOFTCERT_ERR_SIZE;
  // oneDNN's dimensions are int64_t.
  if (rows * n > static_cast<std::size_t>(std::numeric_limits<memory::dim>::max())) return SOFTCERT_ERR_UNSUPPORTED;
  return SOFTCERT_OK;
}

template <typename T> constexpr memory::data_type kType = memory::data_type::f32;
struct Bf16 { std::uint16_t bits; };
struct F16 { std::uint16_t bits; };
template <> constexpr memory::data_type kType<Bf16> = memory::data_type::bf16;
template <> constexpr memory::data_type kType<F16> = memory::data_type::f16;

memory::desc rows_desc(memory::data_type type, std::size_t rows, std::size_t n) {
  return memory::desc({static_cast<memory::dim>(rows), static_cast<memory::dim>(n)}, type, memory::format_tag::ab);
}

// Any oneDNN failure (no implementation for this type or shape on this CPU, no memory) declines;
// no exception crosses the C ABI.
template <typename Body>
int guarded(Body body) {
  try {
    return body();
  } catch (const dnnl::error&) {
    return SOFTCERT_ERR_UNSUPPORTED;
  } catch (const std::bad_alloc&) {
    return SOFTCERT_ERR_SIZE;
  } catch (...) {
    return SOFTCERT_ERR_UNSUPPORTED;
  }
}

// softmax or log_softmax forward over each row; E is the element (its bytes, as the ABI passes them).
template <typename E, typename Elem>
int forward(algorithm alg, const Elem* x, Elem* y, std::size_t rows, std::size_t n) {
  if (int e = check_rows(x, y, rows, n, sizeof(Elem))) return e;
  return guarded([&] {
    Context& ctx = context();
    std::lock_guard<std::mutex> lock(ctx.mutex);
    OneThread one_thread;
    const memory::desc md = rows_desc(kType<E>, rows, n);
    const dnnl::softmax_v2_forward::primitive_desc pd(
        dnnl::softmax_v2_forward::desc(prop_kind::forward_inference, alg, md, md, 1), ctx.engine);
    std::vector<Elem> out(rows * n);
    memory src(md, ctx.engine, const_cast<Elem*>(x));  // read only: src of a forward primitive
    memory dst(md, ctx.engine, out.data());
    dnnl::softmax_v2_forward(pd).execute(ctx.stream, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
    ctx.stream.wait();
    std::memcpy(y, out.data(), out.size() * sizeof(Elem));
    return SOFTCERT_OK;
  });
}

// dx = y ⊙ (dy − Σ y·dy) per row: oneDNN's backward takes the forward's output (dst) and the
// upstream gradient (diff_dst); the forward primitive descriptor is only its required hint.
int backward(const float* y, const float* dy, float* dx, std::size_t rows, std::size_t n) {
  if (dy == nullptr) return SOFTCERT_ERR_NULL;
  if (int e = check_rows(y, dx, rows, n, sizeof(float))) return e;
  return guarded([&] {
    Context& ctx = context();
    std::lock_guard<std::mutex> lock(ctx.mutex);
    OneThread one_thread;
    const memory::desc md = rows_desc(memory::data_type::f32, rows, n);
    const dnnl::softmax_v2_forward::primitive_desc hint(
        dnnl::softmax_v2_forward::desc(prop_kind::forward_training, algorithm::softmax_accurate, md, md, 1),
        ctx.engine);
    const dnnl::softmax_v2_backward::primitive_desc pd(
        dnnl::softmax_v2_backward::desc(algorithm::softmax_accurate, md, md, md, 1), ctx.engine, hint);
    std::vector<float> out(rows * n);
    memory dst(md, ctx.engine, const_cast<float*>(y));  // read only for a backward primitive
    memory diff_dst(md, ctx.engine, const_cast<float*>(dy));
    memory diff_src(md, ctx.engine, out.data());
    dnnl::softmax_v2_backward(pd).execute(
        ctx.stream, {{DNNL_ARG_DST, dst}, {DNNL_ARG_DIFF_DST, diff_dst}, {DNNL_ARG_DIFF_SRC, diff_src}});
    ctx.stream.wait();
    std::memcpy(dx, out.data(), out.size() * sizeof(float));
    return SOFTCERT_OK;
  });
}

// σ(x) elementwise: oneDNN's logistic eltwise primitive on a 1-D tensor.
int sigmoid(const float* x, float* y, std::size_t count) {
  if (int e = check_rows(x, y, 1, count, sizeof(float))) return e;
  return guarded([&] {
    Context& ctx = context();
    std::lock_guard<std::mutex> lock(ctx.mutex);
    OneThread one_thread;
    const memory::desc md({static_cast<memory::dim>(count)}, memory::data_type::f32, memory::format_tag::a);
    const dnnl::eltwise_forward::primitive_desc pd(
        dnnl::eltwise_forward::desc(prop_kind::forward_inference, algorithm::eltwise_logistic, md, 0.f, 0.f),
        ctx.engine);
    std::vector<float> out(count);
    memory src(md, ctx.engine, const_cast<float*>(x));
    memory dst(md, ctx.engine, out.data());
    dnnl::eltwise_forward(pd).execute(ctx.stream, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
    ctx.stream.wait();
    std::memcpy(y, out.data(), out.size() * sizeof(float));
    return SOFTCERT_OK;
  });
}

// The implementation oneDNN picks for an f32 row softmax on this CPU (e.g. "jit:avx2"): results
// depend on it, so the certificate names it.
std::string f32_implementation() {
  try {
    Context& ctx = context();
    const memory::desc md = rows_desc(memory::data_type::f32, 1, 1);
    const dnnl::softmax_v2_forward::primitive_desc pd(
        dnnl::softmax_v2_forward::desc(prop_kind::forward_inference, algorithm::softmax_accurate, md, md, 1),
        ctx.engine);
    return pd.impl_info_str();
  } catch (...) {
    return "none";
  }
}

}  // namespace

SOFTCERT_EXPORT int softcert_abi_version(void) { return SOFTCERT_ABI_VERSION; }

SOFTCERT_EXPORT const char* softcert_name(void) {
  static const std::string name = [] {
    const dnnl_version_t* v = dnnl_version();
    return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch) +
           " (cpu, softmax f32: " + f32_implementation() + ")";
  }();
  return name.c_str();
}

SOFTCERT_EXPORT int softcert_softmax_f32(const float* x, float* y, size_t rows, size_t n) {
  return forward<float>(algorithm::softmax_accurate, x, y, rows, n);
}
SOFTCERT_EXPORT int softcert_log_softmax_f32(const float* x, float* y, size_t rows, size_t n) {
  return forward<float>(algorithm::softmax_log, x, y, rows, n);
}
SOFTCERT_EXPORT int softcert_softmax_backward_f32(const float* y, const float* dy, float* dx, size_t rows, size_t n) {
  return backward(y, dy, dx, rows, n);
}
SOFTCERT_EXPORT int softcert_sigmoid_f32(const float* x, float* y, size_t count) { return sigmoid(x, y, count); }
SOFTCERT_EXPORT int softcert_softmax_bf16(const uint16_t* x, uint16_t* y, size_t rows, size_t n) {
  return forward<Bf16>(algorithm::softmax_accurate, x, y, rows, n);
}
SOFTCERT_EXPORT int softcert_log_softmax_bf16(const uint16_t* x, uint16_t* y, size_t rows, size_t n) {
  return forward<Bf16>(algorithm::softmax_log, x, y, rows, n);
}
SOFTCERT_EXPORT int softcert_softmax_f16(const uint16_t* x, uint16_t* y, size_t rows, size_t n) {
  return forward<F16>(algorithm::softmax_accurate, x, y, rows, n);
}
SOFTCERT_EXPORT int softcert_log_softmax_f16(const uint16_t* x, uint16_t* y, size_t rows, size_t n) {
  return forward<F16>(algorithm::softmax_log, x, y, rows, n);
}

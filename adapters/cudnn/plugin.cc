// cuDNN behind the plugin ABI (DESIGN.md §3): cudnnSoftmaxForward and cudnnSoftmaxBackward, the
// library's own kernels, on a rows × n tensor (N = rows, C = n, H = W = 1, MODE_INSTANCE: one
// softmax per row). The ABI has one softmax per plugin, so this file builds two plugins:
//   libsoftcert-cudnn.so       softmax = CUDNN_SOFTMAX_ACCURATE, log_softmax = CUDNN_SOFTMAX_LOG,
//                              softmax_backward (cudnnSoftmaxBackward, ACCURATE), sigmoid
//                              (cudnnActivationForward SIGMOID, cuDNN 9's legacy activation API)
//   libsoftcert-cudnn-fast.so  softmax = CUDNN_SOFTMAX_FAST (SOFTCERT_CUDNN_FAST defined)
// Types: f32, f64 and binary16 (cuDNN's HALF). Where no GPU is usable (cudaGetDeviceCount fails or
// finds none) every valid call declines with SOFTCERT_ERR_UNSUPPORTED and softcert_name() says so,
// so a certificate reads "no GPU" rather than a failure.
//
// Each call: validate (abi.h's order), copy the inputs to the device, run cuDNN, copy the result
// back into a host buffer, and only then into the caller's output (written only on success).
#include <cuda_runtime.h>
#include <cudnn.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

#include "softcert/abi.h"

#define SOFTCERT_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

#ifdef SOFTCERT_CUDNN_FAST
constexpr cudnnSoftmaxAlgorithm_t kSoftmaxAlgorithm = CUDNN_SOFTMAX_FAST;
constexpr const char* kVariant = "cudnnSoftmaxForward FAST";
#else
constexpr cudnnSoftmaxAlgorithm_t kSoftmaxAlgorithm = CUDNN_SOFTMAX_ACCURATE;
constexpr const char* kVariant = "cudnnSoftmaxForward ACCURATE/LOG, cudnnSoftmaxBackward, sigmoid activation";
#endif

// The process's one cuDNN context, made on first use. `usable` is false where no GPU is (or
// cuDNN cannot start on it); `why` says what the name should report then.
struct Context {
  bool usable = false;
  std::string why;
  cudnnHandle_t handle = nullptr;
  std::mutex mutex;  // one cuDNN call at a time on the shared handle
};

Context& context() {
  static Context* c = [] {
    auto* ctx = new Context;  // never destroyed: cuDNN/CUDA teardown at exit is not ours to order
    int devices = 0;
    const cudaError_t err = cudaGetDeviceCount(&devices);
    if (err != cudaSuccess) {
      ctx->why = std::string("no GPU: every call declines; cudaGetDeviceCount: ") + cudaGetErrorName(err);
      cudaGetLastError();  // clear the sticky runtime error
      return ctx;
    }
    if (devices == 0) {
      ctx->why = "no GPU: every call declines";
      return ctx;
    }
    const cudnnStatus_t s = cudnnCreate(&ctx->handle);
    if (s != CUDNN_STATUS_SUCCESS) {
      ctx->why = std::string("GPU present but cudnnCreate failed: every call declines; ") + cudnnGetErrorString(s);
      ctx->handle = nullptr;
      return ctx;
    }
    ctx->usable = true;
    return ctx;
  }();
  return *c;
}

std::string version_text(std::size_t v) {
  // cuDNN 9 encodes MAJOR * 10000 + MINOR * 100 + PATCH (cudnn_version.h: CUDNN_VERSION).
  return std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." + std::to_string(v % 100);
}

bool fits(std::size_t a, std::size_t b, std::size_t element) {
  return b == 0 || a <= std::numeric_limits<std::size_t>::max() / b / element;
}

int check_rows(const void* in, const void* out, std::size_t rows, std::size_t n, std::size_t element) {
  if (in == nullptr || out == nullptr) return SOFTCERT_ERR_NULL;
  if (rows == 0 || n == 0) return SOFTCERT_ERR_EMPTY;
  if (!fits(rows, n, element)) return SOFTCERT_ERR_SIZE;
  // cuDNN's descriptors take int dimensions and its tensors at most 2^31 - 1 elements.
  const auto max = static_cast<std::size_t>(std::numeric_limits<int>::max());
  if (rows > max || n > max || rows * n > max) return SOFTCERT_ERR_UNSUPPORTED;
  return SOFTCERT_OK;
}

template <typename T> struct Type;
template <> struct Type<float> {
  static constexpr cudnnDataType_t kData = CUDNN_DATA_FLOAT;
  using Scale = float;  // alpha/beta: float for FLOAT and HALF tensors, double for DOUBLE
};
template <> struct Type<double> {
  static constexpr cudnnDataType_t kData = CUDNN_DATA_DOUBLE;
  using Scale = double;
};
struct Half {};  // binary16 bit patterns
template <> struct Type<Half> {
  static constexpr cudnnDataType_t kData = CUDNN_DATA_HALF;
  using Scale = float;
};

// A device buffer freed on scope exit.
class DeviceBuffer {
 public:
  explicit DeviceBuffer(std::size_t bytes) {
    if (cudaMalloc(&ptr_, bytes) != cudaSuccess) ptr_ = nullptr;
  }
  ~DeviceBuffer() { if (ptr_) cudaFree(ptr_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  void* get() const { return ptr_; }

 private:
  void* ptr_ = nullptr;
};

class Descriptor {
 public:
  Descriptor() { if (cudnnCreateTensorDescriptor(&d_) != CUDNN_STATUS_SUCCESS) d_ = nullptr; }
  ~Descriptor() { if (d_) cudnnDestroyTensorDescriptor(d_); }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  cudnnTensorDescriptor_t get() const { return d_; }

 private:
  cudnnTensorDescriptor_t d_ = nullptr;
};

// cudnnActivationForward with CUDNN_ACTIVATION_SIGMOID; NaN propagated (a NaN input gives NaN).
cudnnStatus_t activation_sigmoid(cudnnHandle_t handle, const void* alpha, cudnnTensorDescriptor_t desc, const void* x,
                                 const void* beta, void* y) {
  cudnnActivationDescriptor_t activation = nullptr;
  cudnnStatus_t s = cudnnCreateActivationDescriptor(&activation);
  if (s != CUDNN_STATUS_SUCCESS) return s;
  s = cudnnSetActivationDescriptor(activation, CUDNN_ACTIVATION_SIGMOID, CUDNN_PROPAGATE_NAN, 0.0);
  if (s == CUDNN_STATUS_SUCCESS) s = cudnnActivationForward(handle, activation, alpha, desc, x, beta, desc, y);
  cudnnDestroyActivationDescriptor(activation);
  return s;
}

enum class Op { forward_softmax, forward_log, backward, sigmoid };

// Runs one cuDNN softmax call on rows × n elements of S bytes each. `a` is x (forward) or y
// (backward), `b` is dy (backward only). Any CUDA or cuDNN failure is a decline.
template <typename T>
int run(Op op, const void* a, const void* b, void* out, std::size_t rows, std::size_t n) {
  constexpr std::size_t element = std::is_same_v<T, Half> ? sizeof(std::uint16_t) : sizeof(T);
  Context& ctx = context();
  if (!ctx.usable) return SOFTCERT_ERR_UNSUPPORTED;
  std::lock_guard<std::mutex> lock(ctx.mutex);
  const std::size_t bytes = rows * n * element;
  DeviceBuffer da(bytes), db(op == Op::backward ? bytes : 1), dout(bytes);
  Descriptor desc;
  if (!da.get() || !db.get() || !dout.get() || !desc.get()) return SOFTCERT_ERR_UNSUPPORTED;
  if (cudnnSetTensor4dDescriptor(desc.get(), CUDNN_TENSOR_NCHW, Type<T>::kData, static_cast<int>(rows),
                                 static_cast<int>(n), 1, 1) != CUDNN_STATUS_SUCCESS) {
    return SOFTCERT_ERR_UNSUPPORTED;
  }
  if (cudaMemcpy(da.get(), a, bytes, cudaMemcpyHostToDevice) != cudaSuccess) return SOFTCERT_ERR_UNSUPPORTED;
  if (op == Op::backward && cudaMemcpy(db.get(), b, bytes, cudaMemcpyHostToDevice) != cudaSuccess) {
    return SOFTCERT_ERR_UNSUPPORTED;
  }
  const typename Type<T>::Scale alpha = 1, beta = 0;
  cudnnStatus_t s;
  if (op == Op::sigmoid) {
    s = activation_sigmoid(ctx.handle, &alpha, desc.get(), da.get(), &beta, dout.get());
  } else if (op == Op::backward) {
    s = cudnnSoftmaxBackward(ctx.handle, CUDNN_SOFTMAX_ACCURATE, CUDNN_SOFTMAX_MODE_INSTANCE, &alpha, desc.get(),
                             da.get(), desc.get(), db.get(), &beta, desc.get(), dout.get());
  } else {
    const cudnnSoftmaxAlgorithm_t algorithm = op == Op::forward_log ? CUDNN_SOFTMAX_LOG : kSoftmaxAlgorithm;
    s = cudnnSoftmaxForward(ctx.handle, algorithm, CUDNN_SOFTMAX_MODE_INSTANCE, &alpha, desc.get(), da.get(), &beta,
                            desc.get(), dout.get());
  }
  if (s != CUDNN_STATUS_SUCCESS) return SOFTCERT_ERR_UNSUPPORTED;
  std::vector<unsigned char> host(bytes);
  if (cudaMemcpy(host.data(), dout.get(), bytes, cudaMemcpyDeviceToHost) != cudaSuccess) {
    return SOFTCERT_ERR_UNSUPPORTED;  // includes a kernel fault reported at this synchronisation
  }
  std::memcpy(out, host.data(), bytes);
  return SOFTCERT_OK;
}

// Nothing crosses the C ABI: a failed allocation of the host buffer is a decline too.
template <typename T>
int guarded(Op op, const void* a, const void* b, void* out, std::size_t rows, std::size_t n) {
  try {
    return run<T>(op, a, b, out, rows, n);
  } catch (...) {
    return SOFTCERT_ERR_UNSUPPORTED;
  }
}

template <typename T>
int forward(Op op, const void* x, void* y, std::size_t rows, std::size_t n) {
  constexpr std::size_t element = std::is_same_v<T, Half> ? sizeof(std::uint16_t) : sizeof(T);
  if (int e = check_rows(x, y, rows, n, element)) return e;
  return guarded<T>(op, x, nullptr, y, rows, n);
}

#ifndef SOFTCERT_CUDNN_FAST
template <typename T>
int backward(const T* y, const T* dy, T* dx, std::size_t rows, std::size_t n) {
  if (dy == nullptr) return SOFTCERT_ERR_NULL;
  if (int e = check_rows(y, dx, rows, n, sizeof(T))) return e;
  return guarded<T>(Op::backward, y, dy, dx, rows, n);
}

template <typename T>
int sigmoid(const T* x, T* y, std::size_t count) {
  if (int e = check_rows(x, y, 1, count, sizeof(T))) return e;
  return guarded<T>(Op::sigmoid, x, nullptr, y, 1, count);
}
#endif

}  // namespace

SOFTCERT_EXPORT int softcert_abi_version(void) { return SOFTCERT_ABI_VERSION; }

// cudnnGetVersion() is the loaded library's version (not the headers'); it needs no GPU.
SOFTCERT_EXPORT const char* softcert_name(void) try {
  static const std::string name = [] {
    std::string s = "cuDNN " + version_text(cudnnGetVersion()) + " (" + kVariant;
    int runtime = 0;
    if (cudaRuntimeGetVersion(&runtime) == cudaSuccess) {
      s += ", CUDA runtime " + std::to_string(runtime / 1000) + "." + std::to_string(runtime % 1000 / 10);
    }
    const Context& ctx = context();
    if (ctx.usable) {
      int device = 0;
      cudaDeviceProp prop{};
      if (cudaGetDevice(&device) == cudaSuccess && cudaGetDeviceProperties(&prop, device) == cudaSuccess) {
        s += std::string(", ") + prop.name;
      }
    } else {
      s += "; " + ctx.why;
    }
    return s + ")";
  }();
  return name.c_str();
} catch (...) {
  return "cuDNN";  // nothing crosses the C ABI, not even bad_alloc
}

SOFTCERT_EXPORT int softcert_softmax_f32(const float* x, float* y, size_t rows, size_t n) {
  return forward<float>(Op::forward_softmax, x, y, rows, n);
}
SOFTCERT_EXPORT int softcert_softmax_f64(const double* x, double* y, size_t rows, size_t n) {
  return forward<double>(Op::forward_softmax, x, y, rows, n);
}
SOFTCERT_EXPORT int softcert_softmax_f16(const uint16_t* x, uint16_t* y, size_t rows, size_t n) {
  return forward<Half>(Op::forward_softmax, x, y, rows, n);
}
#ifndef SOFTCERT_CUDNN_FAST
SOFTCERT_EXPORT int softcert_log_softmax_f32(const float* x, float* y, size_t rows, size_t n) {
  return forward<float>(Op::forward_log, x, y, rows, n);
}
SOFTCERT_EXPORT int softcert_log_softmax_f64(const double* x, double* y, size_t rows, size_t n) {
  return forward<double>(Op::forward_log, x, y, rows, n);
}
SOFTCERT_EXPORT int softcert_log_softmax_f16(const uint16_t* x, uint16_t* y, size_t rows, size_t n) {
  return forward<Half>(Op::forward_log, x, y, rows, n);
}
SOFTCERT_EXPORT int softcert_softmax_backward_f32(const float* y, const float* dy, float* dx, size_t rows, size_t n) {
  return backward(y, dy, dx, rows, n);
}
SOFTCERT_EXPORT int softcert_softmax_backward_f64(const double* y, const double* dy, double* dx, size_t rows,
                                                  size_t n) {
  return backward(y, dy, dx, rows, n);
}
SOFTCERT_EXPORT int softcert_sigmoid_f32(const float* x, float* y, size_t count) { return sigmoid(x, y, count); }
SOFTCERT_EXPORT int softcert_sigmoid_f64(const double* x, double* y, size_t count) { return sigmoid(x, y, count); }
#endif

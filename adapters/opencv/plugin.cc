// OpenCV dnn behind the plugin ABI (DESIGN.md §3): a one-layer cv::dnn::Net on a rows × n blob,
// OpenCV's own backend on the CPU.
//   softmax      layer "Softmax", axis 1                     f32
//   log_softmax  layer "Softmax", axis 1, log_softmax=true   f32 (OpenCV 4.6's LogSoftmax: the
//                ONNX importer maps LogSoftmax to this; no layer of type "LogSoftmax" is registered)
//   sigmoid      layer "Sigmoid" on a 1 × count blob         f32
// OpenCV dnn computes in float on the CPU (its FP16 targets are OpenCL only), so nothing else is
// exported.
//
// Each call: validate (abi.h's order), run the net on a private copy of the input, and copy the
// result into the caller's output only on success (an error never writes). One call at a time (a
// mutex), and OpenCV's thread pool set to one thread once: the certifier calls rows or batches.
#include <opencv2/core.hpp>
#include <opencv2/core/utility.hpp>
#include <opencv2/dnn.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <mutex>
#include <new>
#include <string>

#include "softcert/abi.h"

#define SOFTCERT_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

std::mutex& call_mutex() {
  static std::mutex* m = [] {
    cv::setNumThreads(1);
    return new std::mutex;  // never destroyed: a call may still run while the process exits
  }();
  return *m;
}

int check_rows(const void* in, const void* out, std::size_t rows, std::size_t n) {
  if (in == nullptr || out == nullptr) return SOFTCERT_ERR_NULL;
  if (rows == 0 || n == 0) return SOFTCERT_ERR_EMPTY;
  if (n > std::numeric_limits<std::size_t>::max() / rows / sizeof(float)) return SOFTCERT_ERR_SIZE;
  // cv::Mat's sizes are int.
  const auto max = static_cast<std::size_t>(std::numeric_limits<int>::max());
  if (rows > max || n > max || rows * n > max) return SOFTCERT_ERR_UNSUPPORTED;
  return SOFTCERT_OK;
}

// One layer of `type` with `params` on a rows × n float blob; any OpenCV error declines.
int run(const char* type, cv::dnn::LayerParams params, const float* x, float* y, std::size_t rows, std::size_t n) {
  if (int e = check_rows(x, y, rows, n)) return e;
  try {
    std::lock_guard<std::mutex> lock(call_mutex());
    const int shape[2] = {static_cast<int>(rows), static_cast<int>(n)};
    const cv::Mat input = cv::Mat(2, shape, CV_32F, const_cast<float*>(x)).clone();  // the caller's stays untouched
    params.name = "layer";
    params.type = type;
    cv::dnn::Net net;
    net.addLayerToPrev(params.name, params.type, params);
    net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    net.setInput(input);
    const cv::Mat output = net.forward();
    if (output.type() != CV_32F || output.total() != rows * n || !output.isContinuous()) return SOFTCERT_ERR_UNSUPPORTED;
    std::memcpy(y, output.ptr<float>(), rows * n * sizeof(float));
    return SOFTCERT_OK;
  } catch (const std::bad_alloc&) {
    return SOFTCERT_ERR_SIZE;
  } catch (...) {  // cv::Exception and anything else: nothing crosses the C ABI
    return SOFTCERT_ERR_UNSUPPORTED;
  }
}

cv::dnn::LayerParams softmax_params(bool log) {
  cv::dnn::LayerParams p;
  p.set("axis", 1);
  p.set("log_softmax", log);
  return p;
}

}  // namespace

SOFTCERT_EXPORT int softcert_abi_version(void) { return SOFTCERT_ABI_VERSION; }

SOFTCERT_EXPORT const char* softcert_name(void) {
  static const std::string name = "OpenCV dnn " + cv::getVersionString() + " (backend OpenCV, target CPU)";
  return name.c_str();
}

SOFTCERT_EXPORT int softcert_softmax_f32(const float* x, float* y, size_t rows, size_t n) {
  return run("Softmax", softmax_params(false), x, y, rows, n);
}
SOFTCERT_EXPORT int softcert_log_softmax_f32(const float* x, float* y, size_t rows, size_t n) {
  return run("Softmax", softmax_params(true), x, y, rows, n);
}
SOFTCERT_EXPORT int softcert_sigmoid_f32(const float* x, float* y, size_t count) {
  return run("Sigmoid", cv::dnn::LayerParams(), x, y, 1, count);
}

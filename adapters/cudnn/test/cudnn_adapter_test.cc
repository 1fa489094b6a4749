// The cuDNN plugins, loaded as the certifier loads them. The test branches on the machine, as the
// plugins do: without a usable GPU every kernel declines and the name says "no GPU"; with one,
// softmax, log_softmax and backward of small rows match the oracle within the standard
// algorithm's bound (cuDNN's own kernels, so anything looser would be a finding, not a tolerance).
#include <cuda_runtime.h>
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "plugin_test_support.hpp"
#include "softcert/abi.h"
#include "softcert/bounds.hpp"
#include "softcert/oracle.hpp"

namespace {

using softcert::adapters::test::Library;

using softcert::adapters::test::Rows32;
using Rows64 = int (*)(const double*, double*, size_t, size_t);
using Rows16 = int (*)(const uint16_t*, uint16_t*, size_t, size_t);
using Backward32 = int (*)(const float*, const float*, float*, size_t, size_t);
using Elementwise32 = int (*)(const float*, float*, size_t);

bool gpu_present() {
  int devices = 0;
  const bool ok = cudaGetDeviceCount(&devices) == cudaSuccess && devices > 0;
  cudaGetLastError();
  return ok;
}

const char* const kPlugins[] = {SOFTCERT_CUDNN_PLUGIN, SOFTCERT_CUDNN_FAST_PLUGIN};

TEST(CudnnAdapter, LoadsNamesItsVersionAndExportsWhatCudnnHas) {
  for (const char* path : kPlugins) {
    Library lib(path);
    ASSERT_NE(lib.handle, nullptr) << path << ": " << dlerror();
    softcert::adapters::test::expect_abi_and_name(lib, "cuDNN 9.");
    const bool fast = std::string(path).find("cudnn-fast") != std::string::npos;
    EXPECT_NE(lib.symbol<void*>("softcert_softmax_f32"), nullptr);
    EXPECT_NE(lib.symbol<void*>("softcert_softmax_f64"), nullptr);
    EXPECT_NE(lib.symbol<void*>("softcert_softmax_f16"), nullptr);
    EXPECT_EQ(lib.symbol<void*>("softcert_log_softmax_f32") != nullptr, !fast) << path;
    EXPECT_EQ(lib.symbol<void*>("softcert_softmax_backward_f32") != nullptr, !fast) << path;
    EXPECT_EQ(lib.symbol<void*>("softcert_sigmoid_f64") != nullptr, !fast) << path;
    // cuDNN has none of these: the plugin must not pretend to.
    for (const char* absent : {"softcert_logsumexp_f32", "softcert_attention_f32",
                               "softcert_cross_entropy_f32", "softcert_softmax_bf16"}) {
      EXPECT_EQ(lib.symbol<void*>(absent), nullptr) << path << " " << absent;
    }
  }
}

TEST(CudnnAdapter, BadInputIsRejectedBeforeAnyGpuWork) {
  Library lib(SOFTCERT_CUDNN_PLUGIN);
  ASSERT_NE(lib.handle, nullptr) << dlerror();
  auto softmax = lib.symbol<Rows32>("softcert_softmax_f32");
  auto backward = lib.symbol<Backward32>("softcert_softmax_backward_f32");
  ASSERT_NE(softmax, nullptr);
  ASSERT_NE(backward, nullptr);
  std::vector<float> x(4, 1.0f), y(4, -7.0f);
  EXPECT_EQ(softmax(nullptr, y.data(), 1, 4), SOFTCERT_ERR_NULL);
  EXPECT_EQ(softmax(x.data(), y.data(), 0, 4), SOFTCERT_ERR_EMPTY);
  EXPECT_EQ(softmax(x.data(), y.data(), SIZE_MAX / 2, 4), SOFTCERT_ERR_SIZE);
  EXPECT_EQ(backward(x.data(), nullptr, y.data(), 1, 4), SOFTCERT_ERR_NULL);
  EXPECT_EQ(y, std::vector<float>(4, -7.0f)) << "nothing written on error";
}

TEST(CudnnAdapter, WithoutAGpuEveryCallDeclinesAndTheNameSaysNoGpu) {
  if (gpu_present()) GTEST_SKIP() << "a GPU is present: see WithAGpuSoftmaxMatchesTheOracle";
  for (const char* path : kPlugins) {
    Library lib(path);
    ASSERT_NE(lib.handle, nullptr) << dlerror();
    EXPECT_NE(std::string(lib.symbol<const char* (*)()>("softcert_name")()).find("no GPU"), std::string::npos);
    std::vector<float> x{1.0f, 2.0f, 3.0f}, y(3, -7.0f);
    std::vector<double> xd{1.0, 2.0, 3.0}, yd(3, -7.0);
    std::vector<uint16_t> xh{0x3c00, 0x4000, 0x4200}, yh(3, 0x1234);
    EXPECT_EQ(lib.symbol<Rows32>("softcert_softmax_f32")(x.data(), y.data(), 1, 3), SOFTCERT_ERR_UNSUPPORTED);
    EXPECT_EQ(lib.symbol<Rows64>("softcert_softmax_f64")(xd.data(), yd.data(), 1, 3), SOFTCERT_ERR_UNSUPPORTED);
    EXPECT_EQ(lib.symbol<Rows16>("softcert_softmax_f16")(xh.data(), yh.data(), 1, 3), SOFTCERT_ERR_UNSUPPORTED);
    if (auto log = lib.symbol<Rows32>("softcert_log_softmax_f32")) {
      EXPECT_EQ(log(x.data(), y.data(), 1, 3), SOFTCERT_ERR_UNSUPPORTED);
    }
    if (auto backward = lib.symbol<Backward32>("softcert_softmax_backward_f32")) {
      EXPECT_EQ(backward(x.data(), x.data(), y.data(), 1, 3), SOFTCERT_ERR_UNSUPPORTED);
    }
    if (auto sigmoid = lib.symbol<Elementwise32>("softcert_sigmoid_f32")) {
      EXPECT_EQ(sigmoid(x.data(), y.data(), 3), SOFTCERT_ERR_UNSUPPORTED);
    }
    EXPECT_EQ(y, std::vector<float>(3, -7.0f));
    EXPECT_EQ(yd, std::vector<double>(3, -7.0));
    EXPECT_EQ(yh, std::vector<uint16_t>(3, 0x1234));
  }
}

// Each output of `computed` within the standard algorithm's bound of the exact value.
template <typename T>
void expect_within(std::span<const T> computed, const std::vector<softcert::oracle::Exact<T>>& exact,
                   const std::vector<double>& bound, const char* what) {
  ASSERT_EQ(computed.size(), exact.size());
  for (std::size_t i = 0; i < exact.size(); ++i) {
    EXPECT_TRUE(softcert::oracle::within_bound(computed[i], exact[i], bound[i]))
        << what << "[" << i << "] = " << computed[i] << " (" << softcert::oracle::ulp_error(computed[i], exact[i])
        << " ULP, bound " << bound[i] << ")";
  }
}

TEST(CudnnAdapter, WithAGpuSoftmaxMatchesTheOracle) {
  if (!gpu_present()) GTEST_SKIP() << "no GPU: see WithoutAGpuEveryCallDeclinesAndTheNameSaysNoGpu";
  namespace O = softcert::oracle;
  // Two rows of 5: ordinary logits, and a huge offset (the case FAST is allowed to lose).
  const std::vector<float> x{-1.5f, 0.25f, 3.0f, 2.0f, -0.75f, 80.0f, 81.0f, 79.5f, 80.25f, 60.0f};
  const std::vector<float> dy{0.5f, -1.0f, 0.25f, 2.0f, -0.125f, 1.0f, 0.0f, -3.0f, 0.75f, 0.5f};
  Library lib(SOFTCERT_CUDNN_PLUGIN);
  ASSERT_NE(lib.handle, nullptr) << dlerror();
  std::vector<float> y(x.size()), ly(x.size()), dx(x.size());
  ASSERT_EQ(lib.symbol<Rows32>("softcert_softmax_f32")(x.data(), y.data(), 2, 5), SOFTCERT_OK);
  ASSERT_EQ(lib.symbol<Rows32>("softcert_log_softmax_f32")(x.data(), ly.data(), 2, 5), SOFTCERT_OK);
  ASSERT_EQ(lib.symbol<Backward32>("softcert_softmax_backward_f32")(y.data(), dy.data(), dx.data(), 2, 5), SOFTCERT_OK);
  for (std::size_t r = 0; r < 2; ++r) {
    const std::span<const float> z(x.data() + 5 * r, 5), yr(y.data() + 5 * r, 5), dyr(dy.data() + 5 * r, 5);
    const auto p = O::softmax<float>(z);
    expect_within<float>(yr, p, O::softmax_bound<float>(z, p), "softmax");
    const auto lp = O::log_softmax<float>(z);
    expect_within<float>(std::span<const float>(ly.data() + 5 * r, 5), lp, O::log_softmax_bound<float>(z, lp),
                               "log_softmax");
    const auto g = O::softmax_backward<float>(yr, dyr);
    expect_within<float>(std::span<const float>(dx.data() + 5 * r, 5), g, O::softmax_backward_bound<float>(yr, dyr, g),
                               "softmax_backward");
  }
  std::vector<float> s(x.size());
  ASSERT_EQ(lib.symbol<Elementwise32>("softcert_sigmoid_f32")(x.data(), s.data(), x.size()), SOFTCERT_OK);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const auto e = O::sigmoid<float>(x[i]);
    EXPECT_TRUE(O::within_bound(s[i], e, O::sigmoid_bound<float>(x[i], e))) << "sigmoid(" << x[i] << ") = " << s[i];
  }
  // f64 ACCURATE on the first row.
  const std::vector<double> xd(x.begin(), x.begin() + 5);
  std::vector<double> yd(5);
  ASSERT_EQ(lib.symbol<Rows64>("softcert_softmax_f64")(xd.data(), yd.data(), 1, 5), SOFTCERT_OK);
  const auto pd = O::softmax<double>(xd);
  expect_within<double>(yd, pd, O::softmax_bound<double>(xd, pd), "softmax f64");
}

}  // namespace

// The oneDNN plugin, loaded as the certifier loads it: it speaks ABI 1, names the oneDNN it runs,
// exports what oneDNN has, rejects bad input without writing, and really calls oneDNN: it shows
// behaviours of oneDNN's own kernels that the exact value (and softcert's lib) do not have.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "plugin_test_support.hpp"
#include "softcert/abi.h"
#include "softcert/oracle.hpp"

namespace {

// The plugin under test, loaded as the certifier loads it.
struct Plugin : softcert::adapters::test::Library {
  Plugin() : Library(SOFTCERT_ONEDNN_PLUGIN) {}
};

using softcert::adapters::test::Rows32;
using Rows16 = int (*)(const uint16_t*, uint16_t*, size_t, size_t);
using Backward32 = int (*)(const float*, const float*, float*, size_t, size_t);
using Elementwise32 = int (*)(const float*, float*, size_t);

TEST(OnednnAdapter, LoadsAndNamesTheLinkedOnednnVersion) {
  Plugin lib;
  ASSERT_NE(lib.handle, nullptr) << dlerror();
  const dnnl_version_t* v = dnnl_version();
  const std::string expected = "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                               std::to_string(v->patch) + " ";
  softcert::adapters::test::expect_abi_and_name(lib, expected);
}

TEST(OnednnAdapter, ExportsWhatOnednnHasAndNothingElse) {
  Plugin lib;
  ASSERT_NE(lib.handle, nullptr) << dlerror();
  for (const char* s : {"softcert_softmax_f32", "softcert_log_softmax_f32", "softcert_softmax_backward_f32",
                        "softcert_sigmoid_f32", "softcert_softmax_bf16", "softcert_log_softmax_bf16",
                        "softcert_softmax_f16", "softcert_log_softmax_f16"}) {
    EXPECT_NE(lib.symbol<void*>(s), nullptr) << s;
  }
  // No f64 on oneDNN's CPU engine, and no such primitives: the plugin must not pretend.
  for (const char* s : {"softcert_softmax_f64", "softcert_log_softmax_f64", "softcert_logsumexp_f32",
                        "softcert_softmax_temperature_f32", "softcert_cross_entropy_f32",
                        "softcert_masked_softmax_f32", "softcert_attention_f32", "softcert_sigmoid_f64"}) {
    EXPECT_EQ(lib.symbol<void*>(s), nullptr) << s;
  }
}

TEST(OnednnAdapter, RejectsBadInputWithoutWriting) {
  Plugin lib;
  ASSERT_NE(lib.handle, nullptr) << dlerror();
  auto softmax = lib.symbol<Rows32>("softcert_softmax_f32");
  auto backward = lib.symbol<Backward32>("softcert_softmax_backward_f32");
  auto sigmoid = lib.symbol<Elementwise32>("softcert_sigmoid_f32");
  const float x[2] = {1, 2};
  float y[2] = {7, 7};
  softcert::adapters::test::expect_rows_kernel_rejects_bad_input(softmax);
  EXPECT_EQ(backward(x, nullptr, y, 1, 2), SOFTCERT_ERR_NULL);
  EXPECT_EQ(sigmoid(x, y, 0), SOFTCERT_ERR_EMPTY);
  EXPECT_EQ(y[0], 7.f);
  EXPECT_EQ(y[1], 7.f);
}

// Without bf16/f16 support on this CPU oneDNN has no primitive: the call declines and writes nothing.
TEST(OnednnAdapter, ReducedPrecisionRunsOrDeclines) {
  Plugin lib;
  ASSERT_NE(lib.handle, nullptr) << dlerror();
  auto softmax = lib.symbol<Rows16>("softcert_softmax_bf16");
  const uint16_t x[2] = {0x3f80, 0x4000};  // bfloat16 1 and 2
  uint16_t y[2] = {0xffff, 0xffff};
  const int rc = softmax(x, y, 1, 2);
  if (rc == SOFTCERT_ERR_UNSUPPORTED) {
    EXPECT_EQ(y[0], 0xffff);
  } else {
    ASSERT_EQ(rc, SOFTCERT_OK);
    const std::vector<float> z = {1, 2};
    const auto exact = softcert::oracle::softmax(std::span<const float>(z), softcert::kBFloat16);
    // A softmax, not garbage; its accuracy is the certifier's business.
    for (int i = 0; i < 2; ++i) EXPECT_NEAR(softcert::decode(y[i], softcert::kBFloat16), exact[i].value, 0.02);
  }
}

// oneDNN's exp flushes tiny probabilities: softmax([0, -100]) has exactly 0 where the exact value
// is e^-100/(1+e^-100) ≈ 3.7e-44, a subnormal the oracle keeps. Sigmoid too.
TEST(OnednnAdapter, FlushesTinyProbabilitiesToZero) {
  Plugin lib;
  ASSERT_NE(lib.handle, nullptr) << dlerror();
  const std::vector<float> z = {0, -100};
  ASSERT_NE(softcert::oracle::softmax(std::span<const float>(z))[1].value, 0.f);
  float y[2];
  ASSERT_EQ(lib.symbol<Rows32>("softcert_softmax_f32")(z.data(), y, 1, 2), SOFTCERT_OK);
  EXPECT_EQ(y[0], 1.f);
  EXPECT_EQ(y[1], 0.f);
  const float x = -100;
  float s = 1;
  ASSERT_NE(softcert::oracle::sigmoid(x).value, 0.f);
  ASSERT_EQ(lib.symbol<Elementwise32>("softcert_sigmoid_f32")(&x, &s, 1), SOFTCERT_OK);
  EXPECT_EQ(s, 0.f);
}

// oneDNN's jit log_softmax (avx2 kernels) computes log(Σ) with an approximation that is not 0 at
// 1: a one-element row gives 0x1.8p-20 instead of exactly 0 (docs/findings/onednn-log-softmax-positive.md).
TEST(OnednnAdapter, LogSoftmaxOfOneElementIsNotZeroOnAvx2) {
  Plugin lib;
  ASSERT_NE(lib.handle, nullptr) << dlerror();
  const std::string name = lib.symbol<const char* (*)()>("softcert_name")();
  if (name.find("jit:avx2") == std::string::npos) GTEST_SKIP() << "pinned for oneDNN's jit:avx2 kernels: " << name;
  const float z = 1;
  float y = 7;
  ASSERT_EQ(lib.symbol<Rows32>("softcert_log_softmax_f32")(&z, &y, 1, 1), SOFTCERT_OK);
  EXPECT_EQ(softcert::oracle::log_softmax(std::span<const float>(&z, 1))[0].value, 0.f);
  EXPECT_EQ(y, 0x1.8p-20f);
}

// Backward is oneDNN's: y ⊙ (dy − Σ y·dy), here with exactly representable data.
TEST(OnednnAdapter, BackwardMatchesTheOracleOnASimpleRow) {
  Plugin lib;
  ASSERT_NE(lib.handle, nullptr) << dlerror();
  const std::vector<float> y = {0.25f, 0.75f}, dy = {1, 0};
  float dx[2];
  ASSERT_EQ(lib.symbol<Backward32>("softcert_softmax_backward_f32")(y.data(), dy.data(), dx, 1, 2), SOFTCERT_OK);
  const auto exact = softcert::oracle::softmax_backward(std::span<const float>(y), std::span<const float>(dy));
  EXPECT_EQ(dx[0], exact[0].value);
  EXPECT_EQ(dx[1], exact[1].value);
}

// The certifier may call from several threads: concurrent calls of different shapes give what
// the same calls give one at a time.
TEST(OnednnAdapter, ConcurrentCallsAgreeWithSequentialOnes) {
  Plugin lib;
  ASSERT_NE(lib.handle, nullptr) << dlerror();
  softcert::adapters::test::expect_concurrent_calls_agree(lib.symbol<Rows32>("softcert_log_softmax_f32"));
}

}  // namespace

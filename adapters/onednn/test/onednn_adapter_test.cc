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

#include "softcert/abi.h"
#include "softcert/oracle.hpp"

namespace {

struct Library {
  void* handle;
  Library() : handle(dlopen(SOFTCERT_ONEDNN_PLUGIN, RTLD_NOW | RTLD_LOCAL)) {}
  ~Library() { if (handle) dlclose(handle); }
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;
  template <typename F> F symbol(const char* name) const { return reinterpret_cast<F>(dlsym(handle, name)); }
};

using Rows32 = int (*)(const float*, float*, size_t, size_t);
using Rows16 = int (*)(const uint16_t*, uint16_t*, size_t, size_t);
using Backward32 = int (*)(const float*, const float*, float*, size_t, size_t);
using Elementwise32 = int (*)(const float*, float*, size_t);

TEST(OnednnAdapter, LoadsAndNamesTheLinkedOnednnVersion) {
  Library lib;
  ASSERT_NE(lib.handle, nullptr) << dlerror();
  auto version = lib.symbol<int (*)()>("softcert_abi_version");
  ASSERT_NE(version, nullptr);
  EXPECT_EQ(version(), SOFTCERT_ABI_VERSION);
  auto name = lib.symbol<const char* (*)()>("softcert_name");
  ASSERT_NE(name, nullptr);
  const dnnl_version_t* v = dnnl_version();
  const std::string expected = "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                               std::to_string(v->patch) + " ";
  EXPECT_EQ(std::string(name()).rfind(expected, 0), 0u) << name();
}

TEST(OnednnAdapter, ExportsWhatOnednnHasAndNothingElse) {
  Library lib;
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
  Library lib;
  ASSERT_NE(lib.handle, nullptr) << dlerror();
  auto softmax = lib.symbol<Rows32>("softcert_softmax_f32");
  auto backward = lib.symbol<Backward32>("softcert_softmax_backward_f32");
  auto sigmoid = lib.symbol<Elementwise32>("softcert_sigmoid_f32");
  const float x[2] = {1, 2};
  float y[2] = {7, 7};
  EXPECT_EQ(softmax(nullptr, y, 1, 2), SOFTCERT_ERR_NULL);
  EXPECT_EQ(softmax(x, nullptr, 1, 2), SOFTCERT_ERR_NULL);
  EXPECT_EQ(softmax(x, y, 0, 2), SOFTCERT_ERR_EMPTY);
  EXPECT_EQ(softmax(x, y, 1, 0), SOFTCERT_ERR_EMPTY);
  EXPECT_EQ(softmax(x, y, std::numeric_limits<size_t>::max() / 2, 4), SOFTCERT_ERR_SIZE);
  EXPECT_EQ(backward(x, nullptr, y, 1, 2), SOFTCERT_ERR_NULL);
  EXPECT_EQ(sigmoid(x, y, 0), SOFTCERT_ERR_EMPTY);
  EXPECT_EQ(y[0], 7.f);
  EXPECT_EQ(y[1], 7.f);
}

// Without bf16/f16 support on this CPU oneDNN has no primitive: the call declines and writes nothing.
TEST(OnednnAdapter, ReducedPrecisionRunsOrDeclines) {
  Library lib;
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
  Library lib;
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
  Library lib;
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
  Library lib;
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
  Library lib;
  ASSERT_NE(lib.handle, nullptr) << dlerror();
  auto kernel = lib.symbol<Rows32>("softcert_log_softmax_f32");
  constexpr int kThreads = 4;
  std::vector<std::vector<float>> in(kThreads), alone(kThreads), together(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    const std::size_t rows = 1 + t, n = 3 + 5 * t;
    for (std::size_t i = 0; i < rows * n; ++i) in[t].push_back(std::sin(float(i + 7 * t)) * 10);
    alone[t].resize(rows * n);
    together[t].resize(rows * n);
    ASSERT_EQ(kernel(in[t].data(), alone[t].data(), rows, n), SOFTCERT_OK);
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int repeat = 0; repeat < 20; ++repeat) kernel(in[t].data(), together[t].data(), 1 + t, 3 + 5 * t);
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(together[t], alone[t]) << "thread " << t;
}

}  // namespace

// The OpenCV dnn plugin, loaded as the certifier loads it: it speaks ABI 1, names the OpenCV it
// runs, exports what OpenCV dnn has, rejects bad input without writing, and really calls OpenCV:
// it shows behaviours of OpenCV's own layers that the exact value (and softcert's lib) do not have.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <opencv2/core/utility.hpp>

#include <cmath>
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
  Plugin() : Library(SOFTCERT_OPENCV_PLUGIN) {}
};

using softcert::adapters::test::Rows32;
using Elementwise32 = int (*)(const float*, float*, size_t);

TEST(OpencvAdapter, LoadsNamesTheLinkedOpencvAndExportsWhatItHas) {
  Plugin lib;
  ASSERT_NE(lib.handle, nullptr) << dlerror();
  softcert::adapters::test::expect_abi_and_name(lib, "OpenCV dnn " + cv::getVersionString() + " ");
  for (const char* s : {"softcert_softmax_f32", "softcert_log_softmax_f32", "softcert_sigmoid_f32"}) {
    EXPECT_NE(lib.symbol<void*>(s), nullptr) << s;
  }
  for (const char* s : {"softcert_softmax_f64", "softcert_softmax_f16", "softcert_log_softmax_bf16",
                        "softcert_logsumexp_f32", "softcert_softmax_backward_f32"}) {
    EXPECT_EQ(lib.symbol<void*>(s), nullptr) << s;
  }
}

TEST(OpencvAdapter, RejectsBadInputWithoutWriting) {
  Plugin lib;
  ASSERT_NE(lib.handle, nullptr) << dlerror();
  auto softmax = lib.symbol<Rows32>("softcert_log_softmax_f32");
  const float x[2] = {1, 2};
  float y[2] = {7, 7};
  softcert::adapters::test::expect_rows_kernel_rejects_bad_input(softmax);
  EXPECT_EQ(lib.symbol<Elementwise32>("softcert_sigmoid_f32")(x, y, 0), SOFTCERT_ERR_EMPTY);
  EXPECT_EQ(y[0], 7.f);
  EXPECT_EQ(y[1], 7.f);
}

// Batches are rows, and a shape change between calls is honoured.
TEST(OpencvAdapter, SoftmaxIsPerRow) {
  Plugin lib;
  ASSERT_NE(lib.handle, nullptr) << dlerror();
  auto softmax = lib.symbol<Rows32>("softcert_softmax_f32");
  const float x[4] = {0, 0, 5, 5};
  float y[4];
  ASSERT_EQ(softmax(x, y, 2, 2), SOFTCERT_OK);
  for (float v : y) EXPECT_EQ(v, 0.5f);
  ASSERT_EQ(softmax(x, y, 1, 4), SOFTCERT_OK);
  EXPECT_EQ(y[0], y[1]);
  EXPECT_GT(y[2], y[0]);
}

// OpenCV's LogSoftmax is log(softmax): where the probability underflows the output is -inf,
// although the exact log-probability is finite (-100 here; docs/findings/opencv-log-softmax-underflow.md).
TEST(OpencvAdapter, LogSoftmaxUnderflowsToMinusInfinity) {
  Plugin lib;
  ASSERT_NE(lib.handle, nullptr) << dlerror();
  const std::vector<float> z = {0, -100};
  const auto exact = softcert::oracle::log_softmax(std::span<const float>(z));
  ASSERT_TRUE(std::isfinite(exact[1].value));
  float y[2];
  ASSERT_EQ(lib.symbol<Rows32>("softcert_log_softmax_f32")(z.data(), y, 1, 2), SOFTCERT_OK);
  EXPECT_EQ(y[0], 0.f);
  EXPECT_EQ(y[1], -std::numeric_limits<float>::infinity());
}

// OpenCV's softmax flushes tiny probabilities: softmax([0, -100]) has exactly 0 where the exact
// value is about 3.7e-44.
TEST(OpencvAdapter, FlushesTinyProbabilitiesToZero) {
  Plugin lib;
  ASSERT_NE(lib.handle, nullptr) << dlerror();
  const std::vector<float> z = {0, -100};
  ASSERT_NE(softcert::oracle::softmax(std::span<const float>(z))[1].value, 0.f);
  float y[2];
  ASSERT_EQ(lib.symbol<Rows32>("softcert_softmax_f32")(z.data(), y, 1, 2), SOFTCERT_OK);
  EXPECT_EQ(y[0], 1.f);
  EXPECT_EQ(y[1], 0.f);
}

// The certifier may call from several threads: concurrent calls of different shapes give what
// the same calls give one at a time.
TEST(OpencvAdapter, ConcurrentCallsAgreeWithSequentialOnes) {
  Plugin lib;
  ASSERT_NE(lib.handle, nullptr) << dlerror();
  softcert::adapters::test::expect_concurrent_calls_agree(lib.symbol<Rows32>("softcert_log_softmax_f32"));
}

}  // namespace

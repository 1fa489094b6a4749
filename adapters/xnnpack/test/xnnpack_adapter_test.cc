// The XNNPACK plugin, loaded as the certifier loads it: it speaks ABI 1, names XNNPACK, exports
// what this XNNPACK has, rejects bad input without writing, and really calls XNNPACK: it shows
// behaviours of XNNPACK's own kernels that the exact value (and softcert's lib) do not have.
#include <dlfcn.h>
#include <gtest/gtest.h>

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
  Plugin() : Library(SOFTCERT_XNNPACK_PLUGIN) {}
};

using softcert::adapters::test::Rows32;
using Elementwise32 = int (*)(const float*, float*, size_t);

TEST(XnnpackAdapter, LoadsNamesXnnpackAndExportsWhatItHas) {
  Plugin lib;
  ASSERT_NE(lib.handle, nullptr) << dlerror();
  softcert::adapters::test::expect_abi_and_name(lib, "XNNPACK ");
  EXPECT_NE(lib.symbol<void*>("softcert_softmax_f32"), nullptr);
  EXPECT_NE(lib.symbol<void*>("softcert_sigmoid_f32"), nullptr);
  // This XNNPACK has no f16 softmax or sigmoid operator, no f64, no log_softmax.
  for (const char* s : {"softcert_softmax_f16", "softcert_softmax_f64", "softcert_log_softmax_f32",
                        "softcert_sigmoid_f64", "softcert_logsumexp_f32", "softcert_softmax_backward_f32"}) {
    EXPECT_EQ(lib.symbol<void*>(s), nullptr) << s;
  }
}

TEST(XnnpackAdapter, RejectsBadInputWithoutWriting) {
  Plugin lib;
  ASSERT_NE(lib.handle, nullptr) << dlerror();
  auto softmax = lib.symbol<Rows32>("softcert_softmax_f32");
  auto sigmoid = lib.symbol<Elementwise32>("softcert_sigmoid_f32");
  const float x[2] = {1, 2};
  float y[2] = {7, 7};
  softcert::adapters::test::expect_rows_kernel_rejects_bad_input(softmax);
  EXPECT_EQ(sigmoid(nullptr, y, 2), SOFTCERT_ERR_NULL);
  EXPECT_EQ(sigmoid(x, y, 0), SOFTCERT_ERR_EMPTY);
  EXPECT_EQ(y[0], 7.f);
  EXPECT_EQ(y[1], 7.f);
}

// Batches are rows: two rows give each row's own softmax.
TEST(XnnpackAdapter, SoftmaxIsPerRow) {
  Plugin lib;
  ASSERT_NE(lib.handle, nullptr) << dlerror();
  const float x[4] = {0, 0, 5, 5};
  float y[4];
  ASSERT_EQ(lib.symbol<Rows32>("softcert_softmax_f32")(x, y, 2, 2), SOFTCERT_OK);
  for (float v : y) EXPECT_EQ(v, 0.5f);
}

// XNNPACK flushes tiny probabilities: softmax([0, -100]) has exactly 0 where the exact value is
// about 3.7e-44, a subnormal the oracle keeps.
TEST(XnnpackAdapter, FlushesTinyProbabilitiesToZero) {
  Plugin lib;
  ASSERT_NE(lib.handle, nullptr) << dlerror();
  const std::vector<float> z = {0, -100};
  ASSERT_NE(softcert::oracle::softmax(std::span<const float>(z))[1].value, 0.f);
  float y[2];
  ASSERT_EQ(lib.symbol<Rows32>("softcert_softmax_f32")(z.data(), y, 1, 2), SOFTCERT_OK);
  EXPECT_EQ(y[0], 1.f);
  EXPECT_EQ(y[1], 0.f);
}

// XNNPACK's softmax turns a NaN row into -inf everywhere, something no softmax convention (and
// not softcert's lib) gives (docs/findings/xnnpack-softmax-nan-inf-rows.md).
TEST(XnnpackAdapter, NanRowGivesMinusInfinity) {
  Plugin lib;
  ASSERT_NE(lib.handle, nullptr) << dlerror();
  const float z[2] = {std::numeric_limits<float>::quiet_NaN(), 0};
  float y[2];
  ASSERT_EQ(lib.symbol<Rows32>("softcert_softmax_f32")(z, y, 1, 2), SOFTCERT_OK);
  EXPECT_EQ(y[0], -std::numeric_limits<float>::infinity());
  EXPECT_EQ(y[1], -std::numeric_limits<float>::infinity());
}

// XNNPACK's sigmoid just above the underflow threshold returns a power of two far from the exact
// (normal) value (docs/findings/xnnpack-exp-near-underflow.md): σ(-0x1.5cp+6) = 0x1p-126, exact
// 0x1.666d0ep-126.
TEST(XnnpackAdapter, SigmoidNearUnderflowIsAPowerOfTwo) {
  Plugin lib;
  ASSERT_NE(lib.handle, nullptr) << dlerror();
  const float x = -0x1.5cp+6f;
  float y = 7;
  ASSERT_EQ(lib.symbol<Elementwise32>("softcert_sigmoid_f32")(&x, &y, 1), SOFTCERT_OK);
  EXPECT_EQ(softcert::oracle::sigmoid(x).value, 0x1.666d0ep-126f);
  EXPECT_EQ(y, 0x1p-126f);
}

// The certifier may call from several threads: concurrent calls of different shapes give what
// the same calls give one at a time.
TEST(XnnpackAdapter, ConcurrentCallsAgreeWithSequentialOnes) {
  Plugin lib;
  ASSERT_NE(lib.handle, nullptr) << dlerror();
  softcert::adapters::test::expect_concurrent_calls_agree(lib.symbol<Rows32>("softcert_softmax_f32"));
}

}  // namespace

// The libtorch plugin, loaded as the certifier loads it: it speaks the ABI, exports what libtorch
// has, validates as abi.h says, and really runs libtorch. The proof of the last is a behaviour
// found by experiment in which libtorch and softcert's own lib differ, pinned beside the same
// call on lib's `stable` plugin.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "plugin_test_support.hpp"
#include "softcert/abi.h"

namespace {

using softcert::adapters::test::Library;

using Masked32 = int (*)(const float*, const uint8_t*, float*, size_t, size_t);
using Masked64 = int (*)(const double*, const uint8_t*, double*, size_t, size_t);
using softcert::adapters::test::Rows32;
using Temperature32 = int (*)(const float*, float*, size_t, size_t, float);
using Labelled32 = int (*)(const float*, const int64_t*, float*, size_t, size_t);
using Attention32 = int (*)(const float*, const float*, const float*, float*, size_t, size_t, size_t, size_t, int);

TEST(LibtorchAdapter, LoadsNamesLibtorchAndExportsWhatLibtorchHas) {
  Library lib(SOFTCERT_LIBTORCH_PLUGIN);
  ASSERT_NE(lib.handle, nullptr) << dlerror();
  softcert::adapters::test::expect_abi_and_name(lib, "libtorch 1.");
  for (const char* function : {"softmax", "log_softmax", "logsumexp", "softmax_temperature", "sigmoid", "cross_entropy",
                               "cross_entropy_grad", "softmax_backward", "masked_softmax", "attention"}) {
    for (const char* type : {"f32", "f64"}) {
      const std::string symbol = std::string("softcert_") + function + "_" + type;
      EXPECT_NE(lib.symbol<void*>(symbol.c_str()), nullptr) << symbol;
    }
  }
  EXPECT_NE(lib.symbol<void*>("softcert_softmax_bf16"), nullptr);
  EXPECT_NE(lib.symbol<void*>("softcert_log_softmax_bf16"), nullptr);
  // libtorch 1.13 has no CPU Half softmax: not claimed.
  EXPECT_EQ(lib.symbol<void*>("softcert_softmax_f16"), nullptr);
  // libtorch's own symbols stay inside the plugin.
  EXPECT_EQ(lib.symbol<void*>("_ZN2at7softmaxERKNS_6TensorElN3c108optionalINS3_10ScalarTypeEEE"), nullptr);
}

// libtorch's masked softmax as users write it, masked_fill(~keep, -inf).softmax(-1), gives NaN
// on a row with nothing kept (0/0); softcert's lib gives 0 (DESIGN.md §2 allows both).
TEST(LibtorchAdapter, AFullyMaskedRowIsNaNInLibtorchAndZeroInSoftcertsLib) {
  Library torch(SOFTCERT_LIBTORCH_PLUGIN), own(SOFTCERT_STABLE_PLUGIN);
  ASSERT_NE(torch.handle, nullptr) << dlerror();
  ASSERT_NE(own.handle, nullptr) << dlerror();
  const std::vector<float> x{1.0f, 2.0f, 3.0f, 0.5f, -1.0f, 4.0f};
  const std::vector<uint8_t> keep{0, 0, 0, 1, 0, 1};  // row 0 fully masked, row 1 partly
  std::vector<float> from_torch(6, -7.0f), from_lib(6, -7.0f);
  ASSERT_EQ(torch.symbol<Masked32>("softcert_masked_softmax_f32")(x.data(), keep.data(), from_torch.data(), 2, 3),
            SOFTCERT_OK);
  ASSERT_EQ(own.symbol<Masked32>("softcert_masked_softmax_f32")(x.data(), keep.data(), from_lib.data(), 2, 3),
            SOFTCERT_OK);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(std::isnan(from_torch[i])) << i << ": " << from_torch[i];
    EXPECT_EQ(from_lib[i], 0.0f) << i;
  }
  // The partly masked row agrees: 0 where masked, softmax of {0.5, 4} elsewhere.
  EXPECT_EQ(from_torch[4], 0.0f);
  EXPECT_NEAR(from_torch[3], 1.0 / (1.0 + std::exp(3.5)), 1e-7);
  EXPECT_NEAR(from_torch[5], 1.0 / (1.0 + std::exp(-3.5)), 1e-7);

  std::vector<double> xd(x.begin(), x.end()), yd(6, -7.0);
  ASSERT_EQ(torch.symbol<Masked64>("softcert_masked_softmax_f64")(xd.data(), keep.data(), yd.data(), 2, 3), SOFTCERT_OK);
  EXPECT_TRUE(std::isnan(yd[0]) && std::isnan(yd[1]) && std::isnan(yd[2]));
}

// softmax(x / t) as users write it: x / t overflows to +inf before the max is subtracted, and the
// row becomes NaN where the exact value is finite (docs/findings/libtorch-temperature-divide-first.md).
// softcert's lib shifts first and stays finite.
TEST(LibtorchAdapter, TemperatureDividesBeforeShifting) {
  Library torch(SOFTCERT_LIBTORCH_PLUGIN), own(SOFTCERT_STABLE_PLUGIN);
  ASSERT_NE(torch.handle, nullptr) << dlerror();
  ASSERT_NE(own.handle, nullptr) << dlerror();
  const std::vector<float> x{std::numeric_limits<float>::max(), 0.0f};
  std::vector<float> from_torch(2, -7.0f), from_lib(2, -7.0f);
  ASSERT_EQ(torch.symbol<Temperature32>("softcert_softmax_temperature_f32")(x.data(), from_torch.data(), 1, 2, 0.5f),
            SOFTCERT_OK);
  ASSERT_EQ(own.symbol<Temperature32>("softcert_softmax_temperature_f32")(x.data(), from_lib.data(), 1, 2, 0.5f),
            SOFTCERT_OK);
  EXPECT_TRUE(std::isnan(from_torch[0]) && std::isnan(from_torch[1]));
  EXPECT_EQ(from_lib[0], 1.0f);
  EXPECT_EQ(from_lib[1], 0.0f);
}

TEST(LibtorchAdapter, BadInputIsRejectedAsAbiHSaysAndNothingIsWritten) {
  Library lib(SOFTCERT_LIBTORCH_PLUGIN);
  ASSERT_NE(lib.handle, nullptr) << dlerror();
  auto softmax = lib.symbol<Rows32>("softcert_softmax_f32");
  auto temperature = lib.symbol<Temperature32>("softcert_softmax_temperature_f32");
  auto ce = lib.symbol<Labelled32>("softcert_cross_entropy_f32");
  auto attention = lib.symbol<Attention32>("softcert_attention_f32");
  const std::vector<float> x{1.0f, 2.0f, 3.0f};
  std::vector<float> y(3, -7.0f);
  EXPECT_EQ(softmax(nullptr, y.data(), 1, 3), SOFTCERT_ERR_NULL);
  EXPECT_EQ(softmax(x.data(), y.data(), 1, 0), SOFTCERT_ERR_EMPTY);
  EXPECT_EQ(softmax(x.data(), y.data(), SIZE_MAX / 2, 3), SOFTCERT_ERR_SIZE);
  const int64_t bad_label = 3, good_label = 2;
  EXPECT_EQ(ce(x.data(), &bad_label, y.data(), 1, 3), SOFTCERT_ERR_LABEL);
  EXPECT_EQ(ce(x.data(), nullptr, y.data(), 1, 3), SOFTCERT_ERR_NULL);
  for (float t : {0.0f, -1.0f, std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()}) {
    EXPECT_EQ(temperature(x.data(), y.data(), 1, 3, t), SOFTCERT_ERR_TEMPERATURE) << t;
  }
  EXPECT_EQ(attention(x.data(), x.data(), x.data(), y.data(), 1, 1, 0, 1, 0), SOFTCERT_ERR_EMPTY);
  EXPECT_EQ(y, std::vector<float>(3, -7.0f)) << "nothing written on error";
  EXPECT_EQ(ce(x.data(), &good_label, y.data(), 1, 3), SOFTCERT_OK);
  EXPECT_NEAR(y[0], std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0)) - 3.0, 1e-6);
  EXPECT_EQ(x, (std::vector<float>{1.0f, 2.0f, 3.0f})) << "inputs unchanged";
}

// Causal attention is top-left aligned as the ABI says: query 0 sees key 0 only, so its output is
// v[0] exactly, whatever the scores.
TEST(LibtorchAdapter, CausalAttentionIsTopLeftAligned) {
  Library lib(SOFTCERT_LIBTORCH_PLUGIN);
  ASSERT_NE(lib.handle, nullptr) << dlerror();
  auto attention = lib.symbol<Attention32>("softcert_attention_f32");
  const std::vector<float> q{1, 0, 0, 1}, k{1, 0, 0, 1, 1, 1}, v{10, 20, 30};
  std::vector<float> causal(2), full(2);
  ASSERT_EQ(attention(q.data(), k.data(), v.data(), causal.data(), 2, 3, 2, 1, 1), SOFTCERT_OK);
  ASSERT_EQ(attention(q.data(), k.data(), v.data(), full.data(), 2, 3, 2, 1, 0), SOFTCERT_OK);
  EXPECT_EQ(causal[0], 10.0f);
  const double w = std::exp(1.0 / std::sqrt(2.0));  // query 1 against keys 0 and 1
  EXPECT_NEAR(causal[1], (10.0 + 20.0 * w) / (1.0 + w), 1e-5);
  EXPECT_GT(full[0], 10.0f);
}

}  // namespace

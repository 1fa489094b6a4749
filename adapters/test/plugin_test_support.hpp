// What every adapter's test shares: the plugin loaded as the certifier loads it, its ABI version
// and name, abi.h's validation of a row kernel, and the check that concurrent calls (the
// certifier's --jobs) give what the same calls give one at a time.
#pragma once

#include <dlfcn.h>
#include <gtest/gtest.h>

#include "softcert/abi.h"

#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace softcert::adapters::test {

struct Library {
  void* handle;
  explicit Library(const char* path) : handle(dlopen(path, RTLD_NOW | RTLD_LOCAL)) {}
  ~Library() { if (handle) dlclose(handle); }
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;
  template <typename F> F symbol(const char* name) const { return reinterpret_cast<F>(dlsym(handle, name)); }
};

using Rows32 = int (*)(const float*, float*, size_t, size_t);

// ABI version 1, and a softcert_name() that starts with `prefix` (the library and its version).
inline void expect_abi_and_name(const Library& lib, const std::string& prefix) {
  auto version = lib.symbol<int (*)()>("softcert_abi_version");
  ASSERT_NE(version, nullptr);
  EXPECT_EQ(version(), SOFTCERT_ABI_VERSION);
  auto name = lib.symbol<const char* (*)()>("softcert_name");
  ASSERT_NE(name, nullptr);
  EXPECT_EQ(std::string(name()).rfind(prefix, 0), 0u) << name();
}

// abi.h's validation of a row kernel, in its order: null pointers, empty shapes, a size that
// overflows; nothing written.
inline void expect_rows_kernel_rejects_bad_input(Rows32 kernel) {
  ASSERT_NE(kernel, nullptr);
  const float x[2] = {1, 2};
  float y[2] = {7, 7};
  EXPECT_EQ(kernel(nullptr, y, 1, 2), SOFTCERT_ERR_NULL);
  EXPECT_EQ(kernel(x, nullptr, 1, 2), SOFTCERT_ERR_NULL);
  EXPECT_EQ(kernel(x, y, 0, 2), SOFTCERT_ERR_EMPTY);
  EXPECT_EQ(kernel(x, y, 1, 0), SOFTCERT_ERR_EMPTY);
  EXPECT_EQ(kernel(x, y, std::numeric_limits<size_t>::max() / 2, 4), SOFTCERT_ERR_SIZE);
  EXPECT_EQ(y[0], 7.f);
  EXPECT_EQ(y[1], 7.f);
}

// Four threads, each calling `kernel` 20 times on a batch of its own shape, must reproduce the
// single-threaded results bit for bit.
inline void expect_concurrent_calls_agree(Rows32 kernel) {
  ASSERT_NE(kernel, nullptr);
  constexpr int kThreads = 4;
  std::vector<std::vector<float>> in(kThreads), alone(kThreads), together(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    const std::size_t rows = 1 + t, n = 3 + 5 * t;
    for (std::size_t i = 0; i < rows * n; ++i) in[t].push_back(std::sin(float(i + 7 * t)) * 10);
    alone[t].resize(rows * n);
    together[t].resize(rows * n);
    ASSERT_EQ(kernel(in[t].data(), alone[t].data(), rows, n), 0);
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

}  // namespace softcert::adapters::test

// What every adapter's test shares: the plugin loaded as the certifier loads it, and the check
// that concurrent calls (the certifier's --jobs) give what the same calls give one at a time.
#pragma once

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
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

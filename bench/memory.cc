// The memory-bound limits, measured in the same run as the kernels: a softmax of a batch that does
// not fit in cache must at least read 4 B and write 4 B per element (memcpy of the 16M floats is
// that limit), and a logsumexp must at least read 4 B (a read-only sum). Same shapes, same arrays,
// same counters as every kernel; label `limit`. Names: f32_copy/memcpy/<case>/1024 and f32_read/sum/<case>/1024.
#include <atomic>
#include <cstdint>
#include <cstring>

#include "harness.hpp"

namespace softcert::bench {

namespace {

// The sum of the float bit patterns as integers: vectorises without reassociating float adds,
// and reads every byte once.
std::uint32_t read_all(const float* x, std::size_t count) {
  std::uint32_t words[16] = {};
  const auto* w = reinterpret_cast<const std::uint32_t*>(x);
  std::size_t i = 0;
  for (; i + 16 <= count; i += 16)
    for (int l = 0; l < 16; ++l) words[l] += w[i + l];
  std::uint32_t s = 0;
  for (; i < count; ++i) s += w[i];
  for (std::uint32_t v : words) s += v;
  return s;
}

}  // namespace

void register_memory() {
  // One shape per case is enough: a copy does not care how the elements are cut into rows.
  for (const Shape& s : shapes()) {
    if (s.n != 1024) continue;
    add("copy", "memcpy", Kind::limit, s, [s](benchmark::State& state) {
      const float* x = input();
      float* y = output();
      const std::size_t count = s.elements();
      if (s.kind == Case::threads) {
        for (auto _ : state) {
          parallel_rows(s.rows, [&](std::size_t first, std::size_t end) {
            std::memcpy(y + first * s.n, x + first * s.n, (end - first) * s.n * sizeof(float));
          });
          benchmark::ClobberMemory();
        }
      } else {
        for (auto _ : state) {
          std::memcpy(y, x, count * sizeof(float));
          benchmark::ClobberMemory();
        }
      }
      finish(state, Kind::limit, s);
    });
    add("read", "sum", Kind::limit, s, [s](benchmark::State& state) {
      const float* x = input();
      if (s.kind == Case::threads) {
        for (auto _ : state) {
          std::atomic<std::uint32_t> sum{0};
          parallel_rows(s.rows, [&](std::size_t first, std::size_t end) {
            sum.fetch_add(read_all(x + first * s.n, (end - first) * s.n), std::memory_order_relaxed);
          });
          benchmark::DoNotOptimize(sum.load());
        }
      } else {
        for (auto _ : state) benchmark::DoNotOptimize(read_all(x, s.elements()));
      }
      finish(state, Kind::limit, s);
    });
  }
}

}  // namespace softcert::bench

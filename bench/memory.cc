// The memory-bound limits, measured in the same run as the kernels: a softmax of a batch that does
// not fit in cache must at least read and write every element (memcpy of the 16M elements is that
// limit: 4 B + 4 B per f32 element, 8 B + 8 B per f64 one), and a logsumexp must at least read
// every element (a read-only sum: 4 B or 8 B). The copy is also the limit of log_softmax,
// softmax_temperature, masked_softmax (which reads 1 B of mask more), cross_entropy_grad and
// sigmoid; the read that of cross_entropy. softmax_backward reads two arrays (y, dy) and writes
// one: its limit is c = a + b over the elements (12 B per f32 element, 24 B per f64 one). Same
// shapes, same arrays, same counters as every kernel; label `limit`. Names:
// <dtype>_copy/memcpy/<case>/1024, <dtype>_read/sum/<case>/1024, <dtype>_add/a_plus_b/<case>/1024.
#include <atomic>
#include <cstdint>
#include <cstring>

#include "harness.hpp"

namespace softcert::bench {

namespace {

// The sum of the bytes read as 32-bit integers: vectorises without reassociating float adds, and
// reads every byte once whatever the element type.
std::uint32_t read_all(const void* x, std::size_t bytes) {
  std::uint32_t words[16] = {};
  const auto* w = static_cast<const std::uint32_t*>(x);
  const std::size_t count = bytes / sizeof(std::uint32_t);
  std::size_t i = 0;
  for (; i + 16 <= count; i += 16)
    for (int l = 0; l < 16; ++l) words[l] += w[i + l];
  std::uint32_t s = 0;
  for (; i < count; ++i) s += w[i];
  for (std::uint32_t v : words) s += v;
  return s;
}

// c = a + b: reads two arrays and writes one, vectorised by the compiler (restrict: no aliasing;
// adding floats in order needs no reassociation).
template <typename T>
void add_arrays(const T* __restrict a, const T* __restrict b, T* __restrict c, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) c[i] = a[i] + b[i];
}

template <typename T>
void register_typed() {
  // One shape per case is enough: a copy does not care how the elements are cut into rows.
  for (const Shape& s : shapes(dtype_of<T>())) {
    if (s.n != 1024) continue;
    add("copy", "memcpy", Kind::limit, s, [s](benchmark::State& state) {
      const T* x = input<T>();
      T* y = output<T>();
      time_units(state, s, s.rows, [&](std::size_t first, std::size_t end) {
        std::memcpy(y + first * s.n, x + first * s.n, (end - first) * s.n * sizeof(T));
      });
      finish(state, Kind::limit, s);
    });
    add("read", "sum", Kind::limit, s, [s](benchmark::State& state) {
      const T* x = input<T>();
      // Its own loop, not time_units: through it the single-thread read measured 0.09 ns/element in
      // cache against 0.06 written out (the limit must not carry the harness's cost).
      if (s.kind == Case::threads) {
        for (auto _ : state) {
          std::atomic<std::uint32_t> sum{0};
          parallel_rows(s.rows, [&](std::size_t first, std::size_t end) {
            sum.fetch_add(read_all(x + first * s.n, (end - first) * s.n * sizeof(T)), std::memory_order_relaxed);
          });
          benchmark::DoNotOptimize(sum.load());
        }
      } else {
        for (auto _ : state) benchmark::DoNotOptimize(read_all(x, s.elements() * sizeof(T)));
      }
      finish(state, Kind::limit, s);
    });
    add("add", "a_plus_b", Kind::limit, s, [s](benchmark::State& state) {
      const T* a = input<T>();
      const T* b = upstream<T>();
      T* c = output<T>();
      time_units(state, s, s.rows, [&](std::size_t first, std::size_t end) {
        add_arrays(a + first * s.n, b + first * s.n, c + first * s.n, (end - first) * s.n);
      });
      finish(state, Kind::limit, s);
    });
  }
}

}  // namespace

void register_memory() {
  register_typed<float>();
  register_typed<double>();
}

}  // namespace softcert::bench

// The harness every benchmark of softcert_bench goes through: the shapes of issue 7, the shared
// input and output arrays, one naming scheme, one way to count ns/element, and a check that each
// measured call really computed its function. lib's algorithms, the peers and the memory-bound
// limits all register through add(), so docs/performance.md (bench/report.py) can read any of them
// from the benchmark's name alone:
//
//   <dtype>_<function>/<implementation>/<case>/<n>     e.g. f32_softmax/onednn/batch/1024
//
// <dtype> is f32 or f64, the element type of input and output.
// <case> is `batch` (single thread, rows × n = 16M elements), `cache` (single thread, 32K
// elements: input and output stay in L2) or `threads` (16M elements, rows spread over every core).
// sigmoid, elementwise, is one row of all the elements (<n> = 16777216 or 32768).
// The label is `lib`, `peer` or `limit`.
#pragma once

#include <benchmark/benchmark.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "softcert/implementation.hpp"

namespace softcert::bench {

// Issue 7: rows fill 16M elements; the in-cache case holds 32K (f32: 128 KiB in + 128 KiB out;
// f64: 256 KiB in + 256 KiB out). Same element counts for both types.
inline constexpr std::size_t kBatchElements = std::size_t{1} << 24;
inline constexpr std::size_t kCacheElements = std::size_t{1} << 15;

enum class Case { batch, cache, threads };
std::string_view case_name(Case c);

// The element type of a benchmark: the prefix of its name.
enum class Dtype { f32, f64 };
std::string_view dtype_name(Dtype d);
template <typename T>
constexpr Dtype dtype_of() {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "f32 or f64 only");
  return std::is_same_v<T, float> ? Dtype::f32 : Dtype::f64;
}

struct Shape {
  Case kind;
  std::size_t rows;
  std::size_t n;
  Dtype dtype = Dtype::f32;
  std::size_t elements() const { return rows * n; }
};

// The shapes of softmax, log_softmax, logsumexp and the limits for one dtype, in report order (the
// other functions': shapes(Dtype, Fn) below). f32: batch n ∈ {16, 128, 1024, 8192, 65536,
// 1048576}; cache n ∈ {16, 128, 1024, 8192, 32768}; threads n ∈ {1024, 65536}. f64 (to keep the
// run's length in bounds): batch n ∈ {128, 1024, 8192, 65536, 1048576}, the n of issue 7's
// verdicts; cache n ∈ {128, 1024}; threads n ∈ {1024, 65536}.
const std::vector<Shape>& shapes(Dtype d);

// The functions measured: the ABI's own enumeration (softcert/implementation.hpp), in its order,
// attention aside; named as the ABI names them.
using Fn = Function;
inline constexpr auto kFns = [] {
  std::array<Fn, std::size(kAllFunctions) - 1> fns{};
  std::size_t i = 0;
  for (Fn f : kAllFunctions)
    if (f != Fn::attention) fns[i++] = f;
  return fns;
}();
inline std::string_view fn_name(Fn f) { return function_name(f); }

// The shapes measured for function f: softmax, log_softmax and logsumexp on every shape of the
// dtype (above); the other row functions on fewer, to bound the run's length: batch n ∈ {128,
// 1024, 65536}, cache n = 1024, threads n = 65536; sigmoid (elementwise: n means nothing to it) on
// one row of all the elements of each case, so its name carries the element count: batch and
// threads 16777216, cache 32768. Same shapes for f64.
const std::vector<Shape>& shapes(Dtype d, Fn f);

// kBatchElements logits of type T (float or double; 64-byte aligned, deterministic, N(0, 3²)),
// and as many outputs. Both are allocated and touched on the first call for that T, outside any
// timed loop, and shared by all benchmarks of that dtype: a run of f32 benchmarks only never
// allocates the f64 arrays.
template <typename T>
const T* input();
template <typename T>
T* output();

// The inputs of the other functions, deterministic, made on first use (outside any timed loop)
// and shared like input<T>(), so a run that does not measure a function never makes its inputs:
// - labels(n): one label per row of n (kBatchElements / n of them), uniform in [0, n); shared by
//   both dtypes and every case (the cache case uses the first rows).
// - keep_mask(): kBatchElements bytes, 1 = keep, about 1 in 8 zero (masked out), never a whole
//   aligned block of 16 masked: no row of the shapes (n a multiple of 16) is fully masked.
// - upstream<T>(): kBatchElements upstream gradients dy, N(0, 1), softmax_backward's dy.
// - probabilities<T>(shape): the softmax of the rows of input<T>() cut as `shape` cuts them,
//   softmax_backward's y: a true softmax (computed one precision above T, rounded once). One
//   array per dtype, made again (the shape's elements) only when the row length changes, which the
//   order of the run (function, then n) keeps rare.
const std::int64_t* labels(std::size_t n);
const std::uint8_t* keep_mask();
template <typename T>
const T* upstream();
template <typename T>
const T* probabilities(const Shape& shape);

// softmax_temperature's t: 0.7, a sampling temperature of the kind language models are decoded
// at (t < 1 sharpens the distribution); not 1, which a kernel may short-cut, and not a power of
// two, so dividing by it is a real division. Passed as T(kTemperature) to every implementation.
inline constexpr double kTemperature = 0.7;

// Cores used by the `threads` case: SOFTCERT_BENCH_THREADS, else std::thread::hardware_concurrency().
unsigned thread_count();

// Runs body(first_row, end_row) over [0, rows) split into thread_count() contiguous chunks, one per
// thread of a persistent pool (the caller runs chunk 0), and returns when all are done.
void parallel_rows(std::size_t rows, const std::function<void(std::size_t, std::size_t)>& body);

// The timed loop of a benchmark over the units [0, units) of shape s (its rows, or its elements):
// each iteration runs body(first, end) on this thread for all of them, or split over the pool
// (parallel_rows) in the `threads` case, then clobbers memory.
void time_units(benchmark::State& state, const Shape& s, std::size_t units,
                const std::function<void(std::size_t, std::size_t)>& body);

enum class Kind { lib, peer, limit };

// Adds `run` as <dtype>_<function>/<impl>/<case>/<n> (dtype: shape.dtype), timed in real time.
// `run` does its setup (outside the timed loop), then the timed loop, then calls finish().
void add(std::string_view function, std::string_view impl, Kind kind, const Shape& shape,
         std::function<void(benchmark::State&)> run);

// Registers everything add()ed with Google Benchmark, ordered by dtype, case, function and n, so
// the implementations of one problem run one after the other (and the f32 part of a run is the
// same sequence as before f64 was added).
void register_all();

// After the timed loop: the counters (ns_per_element, items_per_second) and the label, and for a
// measured function the check that the last call's output (of type shape.dtype) is right: rows 0
// and rows-1 (sigmoid: its first and last 4096 elements) against a reference one precision above
// the output (harness.cc says how precise, and why the tolerance is what it is); a wrong output
// turns the benchmark into an error. register_all() poisons those entries with NaN first.
void finish(benchmark::State& state, Kind kind, const Shape& shape, std::optional<Fn> checked = std::nullopt);

// A key/value the JSON output carries in its context (versions, CPU capability, ...).
void note(const std::string& key, const std::string& value);

// The registration functions of each part of the binary.
void register_lib();
void register_memory();
#ifdef SOFTCERT_BENCH_ONEDNN
void register_onednn();
#endif
#ifdef SOFTCERT_BENCH_XNNPACK
void register_xnnpack();
#endif
#ifdef SOFTCERT_BENCH_LIBTORCH
void register_libtorch();
#endif
#ifdef SOFTCERT_BENCH_OPENCV
void register_opencv();
#endif

}  // namespace softcert::bench

#include "harness.hpp"

#include <algorithm>
#include <barrier>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <memory>
#include <new>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>

namespace softcert::bench {

std::string_view case_name(Case c) {
  switch (c) {
    case Case::batch: return "batch";
    case Case::cache: return "cache";
    case Case::threads: return "threads";
  }
  return "?";
}

std::string_view dtype_name(Dtype d) { return d == Dtype::f32 ? "f32" : "f64"; }

std::string_view fn_name(Fn f) {
  switch (f) {
    case Fn::softmax: return "softmax";
    case Fn::log_softmax: return "log_softmax";
    case Fn::logsumexp: return "logsumexp";
  }
  return "?";
}

const std::vector<Shape>& shapes(Dtype d) {
  const auto make = [](Dtype t, std::initializer_list<std::size_t> batch, std::initializer_list<std::size_t> cache) {
    std::vector<Shape> v;
    for (std::size_t n : batch) v.push_back({Case::batch, kBatchElements / n, n, t});
    for (std::size_t n : cache) v.push_back({Case::cache, kCacheElements / n, n, t});
    for (std::size_t n : {1024, 65536}) v.push_back({Case::threads, kBatchElements / n, n, t});
    return v;
  };
  static const std::vector<Shape> f32 =
      make(Dtype::f32, {16, 128, 1024, 8192, 65536, 1048576}, {16, 128, 1024, 8192, 32768});
  static const std::vector<Shape> f64 = make(Dtype::f64, {128, 1024, 8192, 65536, 1048576}, {128, 1024});
  return d == Dtype::f32 ? f32 : f64;
}

namespace {

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

template <typename T>
using Buffer = std::unique_ptr<T, FreeDeleter>;

// 64-byte aligned (a cache line, an AVX-512 vector); every page touched now, not in a timed loop.
template <typename T>
Buffer<T> allocate(std::size_t count) {
  void* p = std::aligned_alloc(64, count * sizeof(T));
  if (p == nullptr) throw std::bad_alloc();
  std::memset(p, 0, count * sizeof(T));
  return Buffer<T>(static_cast<T*>(p));
}

// The logits are drawn in T from the same seed: the f32 ones are what they always were, the f64
// ones are full-precision doubles (not widened floats), as an f64 caller would pass.
template <typename T>
struct Arrays {
  Buffer<T> x = allocate<T>(kBatchElements);
  Buffer<T> y = allocate<T>(kBatchElements);
  Arrays() {
    std::mt19937_64 rng(20261129);
    std::normal_distribution<T> logit(T(0), T(3));
    T* p = x.get();
    for (std::size_t i = 0; i < kBatchElements; ++i) p[i] = logit(rng);
  }
};

// One per type, made on first use.
template <typename T>
Arrays<T>& arrays() {
  static Arrays<T> a;
  return a;
}

// A persistent pool: thread_count() − 1 workers wait on a barrier; the caller is thread 0.
class Pool {
 public:
  explicit Pool(unsigned threads) : start_(threads), done_(threads) {
    for (unsigned t = 1; t < threads; ++t) {
      workers_.emplace_back([this, t] {
        for (;;) {
          start_.arrive_and_wait();
          if (stop_) return;
          (*job_)(t);
          done_.arrive_and_wait();
        }
      });
    }
  }
  ~Pool() {
    stop_ = true;
    start_.arrive_and_wait();
  }
  void run(const std::function<void(unsigned)>& job) {
    job_ = &job;
    start_.arrive_and_wait();
    job(0);
    done_.arrive_and_wait();
  }

 private:
  std::barrier<> start_;
  std::barrier<> done_;
  const std::function<void(unsigned)>* job_ = nullptr;
  bool stop_ = false;
  std::vector<std::jthread> workers_;  // last: joined before the barriers are destroyed
};

// The reference of the check for outputs of type T: one precision above T, so that its own error
// stays below the tolerance. double for f32; long double for f64 (x86-64: 64-bit significand,
// u = 2^-64; where long double is only double, the reference term below widens the tolerance by
// itself, since it is derived from Ref's epsilon).
template <typename T>
using Ref = std::conditional_t<std::is_same_v<T, float>, double, long double>;

// Row r's logsumexp in Ref: a plain sum, whose error the tolerance below accounts for.
template <typename T>
Ref<T> row_lse(const T* row, std::size_t n) {
  using R = Ref<T>;
  R m = -INFINITY;
  for (std::size_t j = 0; j < n; ++j) m = std::fmax(m, static_cast<R>(row[j]));
  R s = 0;
  for (std::size_t j = 0; j < n; ++j) s += std::exp(static_cast<R>(row[j]) - m);
  return m + std::log(s);
}

// Enough digits to tell T's values apart (9 for f32, 17 for f64).
template <typename T>
std::string show(long double v) {
  char text[48];
  std::snprintf(text, sizeof text, "%.*Lg", std::numeric_limits<T>::max_digits10, v);
  return text;
}

// Empty when the output of `f` for row r is right to a sanity tolerance, else what is wrong. Not an
// accuracy check (softcert certify is one): it catches a call that did not compute the function,
// and lets through the drift of a plain sum in T over 10^6 terms. The tolerance has two parts:
//
// - The sanity margin, fixed for f32 and scaled to T by its precision (ε_T / ε_f32: 1 for f32,
//   2^-29 for f64), so f64 gets the same margin in units of its own rounding. The f32 figures:
//   softmax 5% relative (+1e-30 absolute, for underflowed entries); log_softmax and logsumexp 0.05
//   absolute plus 1e-4 of the magnitudes involved. They let through the drift of a plain f32 sum
//   over 10^6 terms (about 1e-3 relative, seen in `stable` and OpenCV at n = 1M), ~50× below the
//   margin. f64's margin, 0.05 · 2^-29 = 9.3e-11, is far above a plain f64 sum's drift (6.4e-14
//   relative at n = 2^20 on these logits) and far below what an f64 kernel computing in f32 is
//   off by (~1e-7 or more): it catches that, which a float-sized tolerance would not.
// - The reference's own error, from Ref's precision u_R: its plain sum of n terms (γ_n ≈ n·u_R),
//   the rounding of x − max inside each exp, exp and log themselves, a bound of
//   (n + 8)·u_R·(1 + |x| + |lse|) on lse and on log_softmax (absolute), on softmax (relative).
//   f32 (u_R = 2^-53): ≤ 4e-9 at n = 2^20, nothing beside 0.05. f64: a double reference would
//   give ~1e-10·(1 + |x| + |lse|), above the margin, hence long double: ≤ 2e-12 at n = 2^20.
template <typename T>
std::string check_row(Fn f, const T* x, const T* y, std::size_t r, std::size_t n) {
  using R = Ref<T>;
  constexpr R scale = static_cast<R>(std::numeric_limits<T>::epsilon()) / std::numeric_limits<float>::epsilon();
  const R reference_error = (static_cast<R>(n) + 8) * std::numeric_limits<R>::epsilon() / 2;
  const T* row = x + r * n;
  const R lse = row_lse(row, n);
  if (f == Fn::logsumexp) {
    const R magnitude = 1 + std::fabs(lse);
    if (!(std::fabs(y[r] - lse) <= scale * (R(0.05) + R(1e-4) * std::fabs(lse)) + reference_error * magnitude)) {
      return "row " + std::to_string(r) + ": logsumexp " + show<T>(y[r]) + ", expected " + show<T>(lse);
    }
    return {};
  }
  const T* out = y + r * n;
  for (std::size_t j = 0; j < n; ++j) {
    const R z = static_cast<R>(row[j]) - lse;
    const R want = f == Fn::softmax ? std::exp(z) : z;
    const R magnitudes = std::fabs(static_cast<R>(row[j])) + std::fabs(lse);
    const R tolerance = f == Fn::softmax
                            ? scale * (R(0.05) * want + R(1e-30)) + reference_error * (1 + magnitudes) * want
                            : scale * (R(0.05) + R(1e-4) * magnitudes) + reference_error * (1 + magnitudes);
    if (!(std::fabs(out[j] - want) <= tolerance)) {
      return "row " + std::to_string(r) + " entry " + std::to_string(j) + ": " + show<T>(out[j]) + ", expected " +
             show<T>(want);
    }
  }
  return {};
}

// Empty when rows 0 and rows − 1 of the output of `f` are right (check_row), else the first wrong.
template <typename T>
std::string check_output(Fn f, const Shape& shape) {
  for (std::size_t r : {std::size_t{0}, shape.rows - 1}) {
    std::string wrong = check_row(f, input<T>(), output<T>(), r, shape.n);
    if (!wrong.empty()) return wrong;
  }
  return {};
}

// NaN in the output entries finish() checks: rows 0 and rows − 1, and logsumexp's values of both.
template <typename T>
void poison(const Shape& shape) {
  T* y = output<T>();
  const std::size_t last = (shape.rows - 1) * shape.n;
  std::fill(y, y + shape.n, NAN);
  std::fill(y + last, y + last + shape.n, NAN);
  y[shape.rows - 1] = NAN;
}

}  // namespace

template <typename T>
const T* input() {
  return arrays<T>().x.get();
}
template <typename T>
T* output() {
  return arrays<T>().y.get();
}
template const float* input<float>();
template const double* input<double>();
template float* output<float>();
template double* output<double>();

unsigned thread_count() {
  static const unsigned count = [] {
    if (const char* env = std::getenv("SOFTCERT_BENCH_THREADS")) {
      const int t = std::atoi(env);
      if (t > 0) return static_cast<unsigned>(t);
    }
    const unsigned hw = std::thread::hardware_concurrency();
    return hw == 0 ? 1u : hw;
  }();
  return count;
}

void parallel_rows(std::size_t rows, const std::function<void(std::size_t, std::size_t)>& body) {
  static Pool pool(thread_count());
  const std::size_t threads = thread_count();
  const std::function<void(unsigned)> job = [&](unsigned t) {
    const std::size_t first = rows * t / threads, end = rows * (t + 1) / threads;
    if (first < end) body(first, end);
  };
  pool.run(job);
}

namespace {

struct Pending {
  std::string function, impl;
  Shape shape;
  std::function<void(benchmark::State&)> run;
};

std::vector<Pending>& pending() {
  static std::vector<Pending> all;
  return all;
}

int function_rank(const std::string& f) {
  const char* order[] = {"copy", "read", "softmax", "log_softmax", "logsumexp"};
  for (int i = 0; i < 5; ++i)
    if (f == order[i]) return i;
  return 5;
}

}  // namespace

void add(std::string_view function, std::string_view impl, Kind /*kind*/, const Shape& shape,
         std::function<void(benchmark::State&)> run) {
  pending().push_back({std::string(function), std::string(impl), shape, std::move(run)});
}

void register_all() {
  // Dtype, case, then function (limits first), then n: every implementation of one problem runs
  // next to the others, so a change of machine load between problems shifts them all alike; all
  // f32 benchmarks come first, in the order they had before f64 was added.
  std::stable_sort(pending().begin(), pending().end(), [](const Pending& a, const Pending& b) {
    const auto key = [](const Pending& p) {
      return std::tuple(static_cast<int>(p.shape.dtype), static_cast<int>(p.shape.kind), function_rank(p.function),
                        p.shape.n);
    };
    return key(a) < key(b);
  });
  for (Pending& p : pending()) {
    const Shape shape = p.shape;
    const std::string name = std::string(dtype_name(shape.dtype)) + "_" + p.function + "/" + p.impl + "/" +
                             std::string(case_name(shape.kind)) + "/" + std::to_string(shape.n);
    // The output rows finish() checks are poisoned first, so a call that writes nothing cannot
    // pass on what the previous benchmark left there.
    auto poisoned = [shape, run = std::move(p.run)](benchmark::State& state) {
      if (shape.dtype == Dtype::f32) {
        poison<float>(shape);
      } else {
        poison<double>(shape);
      }
      run(state);
    };
    benchmark::RegisterBenchmark(name.c_str(), std::move(poisoned))->UseRealTime()->Unit(benchmark::kMillisecond);
  }
  pending().clear();
}

void finish(benchmark::State& state, Kind kind, const Shape& shape, std::optional<Fn> checked) {
  const double elements = static_cast<double>(shape.elements());
  // Inverted iteration-invariant rate: seconds per (1e-9 · element) = ns per element.
  state.counters["ns_per_element"] =
      benchmark::Counter(elements * 1e-9, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.counters["rows"] = static_cast<double>(shape.rows);
  state.counters["workers"] = shape.kind == Case::threads ? thread_count() : 1;
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * shape.elements()));
  state.SetLabel(kind == Kind::lib ? "lib" : kind == Kind::peer ? "peer" : "limit");
  if (checked) {
    const std::string wrong =
        shape.dtype == Dtype::f32 ? check_output<float>(*checked, shape) : check_output<double>(*checked, shape);
    if (!wrong.empty()) state.SkipWithError(("wrong output: " + wrong).c_str());
  }
}

void note(const std::string& key, const std::string& value) { benchmark::AddCustomContext(key, value); }

}  // namespace softcert::bench

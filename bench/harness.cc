#include "harness.hpp"

#include <algorithm>
#include <array>
#include <barrier>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <map>
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

const std::vector<Shape>& shapes(Dtype d, Fn f) {
  const auto rows = [](Dtype t) {
    std::vector<Shape> v;
    for (std::size_t n : {128, 1024, 65536}) v.push_back({Case::batch, kBatchElements / n, n, t});
    v.push_back({Case::cache, kCacheElements / 1024, 1024, t});
    v.push_back({Case::threads, kBatchElements / 65536, 65536, t});
    return v;
  };
  const auto elementwise = [](Dtype t) {
    return std::vector<Shape>{{Case::batch, 1, kBatchElements, t},
                              {Case::cache, 1, kCacheElements, t},
                              {Case::threads, 1, kBatchElements, t}};
  };
  static const std::vector<Shape> f32_rows = rows(Dtype::f32), f64_rows = rows(Dtype::f64);
  static const std::vector<Shape> f32_elementwise = elementwise(Dtype::f32), f64_elementwise = elementwise(Dtype::f64);
  switch (f) {
    case Fn::softmax:
    case Fn::log_softmax:
    case Fn::logsumexp: return shapes(d);
    case Fn::sigmoid: return d == Dtype::f32 ? f32_elementwise : f64_elementwise;
    case Fn::softmax_temperature:
    case Fn::cross_entropy:
    case Fn::cross_entropy_grad:
    case Fn::softmax_backward:
    case Fn::masked_softmax: break;
  }
  return d == Dtype::f32 ? f32_rows : f64_rows;
}

namespace {

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

template <typename T>
using Buffer = std::unique_ptr<T, FreeDeleter>;

// 64-byte aligned (a cache line, an AVX-512 vector); every page touched now, not in a timed loop.
// 64 bytes more than asked: XNNPACK's kernels may read up to XNN_EXTRA_BYTES (16) past an input.
template <typename T>
Buffer<T> allocate(std::size_t count) {
  const std::size_t bytes = count * sizeof(T) + 64;
  void* p = std::aligned_alloc(64, bytes);
  if (p == nullptr) throw std::bad_alloc();
  std::memset(p, 0, bytes);
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

// The logsumexp in Ref of row / t over the entries it keeps (keep null: all of them): a plain sum,
// whose error the tolerance below accounts for. t = 1 divides exactly.
template <typename T>
Ref<T> row_lse(const T* row, std::size_t n, const std::uint8_t* keep = nullptr, Ref<T> t = 1) {
  using R = Ref<T>;
  R m = -INFINITY;
  for (std::size_t j = 0; j < n; ++j)
    if (keep == nullptr || keep[j] != 0) m = std::fmax(m, static_cast<R>(row[j]) / t);
  R s = 0;
  for (std::size_t j = 0; j < n; ++j)
    if (keep == nullptr || keep[j] != 0) s += std::exp(static_cast<R>(row[j]) / t - m);
  return m + std::log(s);
}

// Enough digits to tell T's values apart (9 for f32, 17 for f64).
template <typename T>
std::string show(long double v) {
  char text[48];
  std::snprintf(text, sizeof text, "%.*Lg", std::numeric_limits<T>::max_digits10, v);
  return text;
}

// The two parts of every tolerance below (check_row says why): the sanity margin's scale to T,
// ε_T / ε_f32 (1 for f32, 2^-29 for f64), and the unit roundoff of the reference.
template <typename T>
constexpr Ref<T> kMarginScale =
    static_cast<Ref<T>>(std::numeric_limits<T>::epsilon()) / std::numeric_limits<float>::epsilon();
template <typename T>
constexpr Ref<T> kReferenceUnit = std::numeric_limits<Ref<T>>::epsilon() / 2;

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
//
// The other row functions take the same two parts, applied to what each computes:
// - softmax_temperature, softmax of z/t with the t the kernel was given (T(0.7)), and
//   masked_softmax, softmax of the kept entries (lse over them only): softmax's tolerance, the
//   magnitudes those of z/t (the division is one rounding more of the reference, within its 8).
//   A masked-out entry must be 0 (to 1e-30 · scale): a kernel that ignores the mask fails there.
// - cross_entropy, lse − z_label: logsumexp's, the magnitudes |lse| + |z_label|.
// - cross_entropy_grad, p − [i = label]: softmax's off the label. At the label, p's 5% plus 5% of
//   |p − 1| for the subtraction (it cancels when p is near 1), 0.05 absolute in all since p ≤ 1:
//   a gradient without the − 1 (off by 1) fails; plus u_R for the reference's own subtraction.
// - softmax_backward, dx_i = y_i (dy_i − s), s = Σ y_j dy_j, from the very y and dy the kernel read:
//   the margin 5% of y_i (|dy_i| + Σ_j y_j |dy_j|), the magnitude that a sum's drift in s and the
//   rounding of dy_i − s scale with (dx_i itself may cancel to 0), plus the reference's
//   (n + 8)·u_R of it (sum of n products, the subtraction, the product). A kernel that forgets s
//   is off by y_i |s|, which exceeds 5% of y_i (|dy_i| + Σ_j y_j |dy_j|) wherever |dy_i| is not
//   many times |s|: at most entries of a row.
template <typename T>
std::string check_row(Fn f, const Shape& shape, std::size_t r) {
  using R = Ref<T>;
  constexpr R scale = kMarginScale<T>;
  const std::size_t n = shape.n;
  const R reference_error = (static_cast<R>(n) + 8) * kReferenceUnit<T>;
  const T* out = output<T>() + r * n;
  const auto wrong = [&](std::size_t j, R want) {
    return "row " + std::to_string(r) + " entry " + std::to_string(j) + ": " + show<T>(out[j]) + ", expected " +
           show<T>(want);
  };
  if (f == Fn::softmax_backward) {
    const T* y = probabilities<T>(shape) + r * n;
    const T* dy = upstream<T>() + r * n;
    R s = 0, weight = 0;  // Σ y·dy and Σ y·|dy|
    for (std::size_t j = 0; j < n; ++j) {
      s += static_cast<R>(y[j]) * dy[j];
      weight += static_cast<R>(y[j]) * std::fabs(static_cast<R>(dy[j]));
    }
    for (std::size_t j = 0; j < n; ++j) {
      const R want = static_cast<R>(y[j]) * (static_cast<R>(dy[j]) - s);
      const R magnitude = static_cast<R>(y[j]) * (std::fabs(static_cast<R>(dy[j])) + weight);
      if (!(std::fabs(out[j] - want) <= scale * (R(0.05) * magnitude + R(1e-30)) + reference_error * magnitude)) {
        return wrong(j, want);
      }
    }
    return {};
  }
  const T* row = input<T>() + r * n;
  const std::uint8_t* keep = f == Fn::masked_softmax ? keep_mask() + r * n : nullptr;
  const R t = f == Fn::softmax_temperature ? static_cast<R>(static_cast<T>(kTemperature)) : R(1);
  const R lse = row_lse(row, n, keep, t);
  if (f == Fn::logsumexp || f == Fn::cross_entropy) {  // one value per row
    const R picked = f == Fn::cross_entropy ? static_cast<R>(row[labels(n)[r]]) : R(0);
    const R want = lse - picked;
    const R magnitudes = std::fabs(lse) + std::fabs(picked);
    const T got = output<T>()[r];
    if (!(std::fabs(got - want) <= scale * (R(0.05) + R(1e-4) * magnitudes) + reference_error * (1 + magnitudes))) {
      return "row " + std::to_string(r) + ": " + std::string(fn_name(f)) + " " + show<T>(got) + ", expected " +
             show<T>(want);
    }
    return {};
  }
  // The entry cross_entropy_grad subtracts 1 from (n: none).
  const std::size_t label = f == Fn::cross_entropy_grad ? static_cast<std::size_t>(labels(n)[r]) : n;
  for (std::size_t j = 0; j < n; ++j) {
    const R u = static_cast<R>(row[j]) / t;
    const R z = u - lse;
    const R magnitudes = std::fabs(u) + std::fabs(lse);
    R want, tolerance;
    if (f == Fn::log_softmax) {
      want = z;
      tolerance = scale * (R(0.05) + R(1e-4) * magnitudes) + reference_error * (1 + magnitudes);
    } else {
      const R p = keep != nullptr && keep[j] == 0 ? R(0) : std::exp(z);
      const R one = j == label ? R(1) : R(0);
      want = p - one;
      tolerance = scale * (R(0.05) * (p + one * std::fabs(want)) + R(1e-30)) +
                  reference_error * ((1 + magnitudes) * p + one);
    }
    if (!(std::fabs(out[j] - want) <= tolerance)) return wrong(j, want);
  }
  return {};
}

// sigmoid has no rows: finish() checks its first and last kElementwiseChecked outputs (a whole
// 16M-element "row" in long double would take seconds per call), the ends of the first and of the
// last thread's chunk in the threads case.
constexpr std::size_t kElementwiseChecked = 4096;

struct Span {
  std::size_t begin, end;
};

// The output entries finish() checks for f on `shape` (and register_all poisons first).
std::array<Span, 2> checked_spans(Fn f, const Shape& s) {
  switch (f) {
    case Fn::logsumexp:
    case Fn::cross_entropy: return {Span{0, 1}, Span{s.rows - 1, s.rows}};  // one value per row
    case Fn::sigmoid: {
      const std::size_t w = std::min(s.elements(), kElementwiseChecked);
      return {Span{0, w}, Span{s.elements() - w, s.elements()}};
    }
    case Fn::softmax:
    case Fn::log_softmax:
    case Fn::softmax_temperature:
    case Fn::cross_entropy_grad:
    case Fn::softmax_backward:
    case Fn::masked_softmax: break;
  }
  return {Span{0, s.n}, Span{(s.rows - 1) * s.n, s.rows * s.n}};  // rows 0 and rows − 1
}

// Empty when sigmoid's checked outputs are right, else the first wrong: 5% relative (+1e-30)
// scaled to T as in check_row, plus 8·u_R relative for the reference's own exp, sum and division.
template <typename T>
std::string check_sigmoid(const Shape& shape) {
  using R = Ref<T>;
  const T* x = input<T>();
  const T* y = output<T>();
  for (const Span& span : checked_spans(Fn::sigmoid, shape)) {
    for (std::size_t i = span.begin; i < span.end; ++i) {
      const R want = 1 / (1 + std::exp(-static_cast<R>(x[i])));
      const R tolerance = kMarginScale<T> * (R(0.05) * want + R(1e-30)) + 8 * kReferenceUnit<T> * want;
      if (!(std::fabs(y[i] - want) <= tolerance)) {
        return "element " + std::to_string(i) + ": " + show<T>(y[i]) + ", expected " + show<T>(want);
      }
    }
  }
  return {};
}

// Empty when the checked outputs of `f` are right (rows 0 and rows − 1, check_row; sigmoid's,
// check_sigmoid), else the first wrong.
template <typename T>
std::string check_output(Fn f, const Shape& shape) {
  if (f == Fn::sigmoid) return check_sigmoid<T>(shape);
  for (std::size_t r : {std::size_t{0}, shape.rows - 1}) {
    std::string wrong = check_row<T>(f, shape, r);
    if (!wrong.empty()) return wrong;
  }
  return {};
}

// NaN in the output entries finish() checks for f.
template <typename T>
void poison(Fn f, const Shape& shape) {
  T* y = output<T>();
  for (const Span& span : checked_spans(f, shape)) std::fill(y + span.begin, y + span.end, NAN);
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

// Each input draws from its own seed, so adding one never changes another. Made and read on the
// main thread only (setup and finish(), never in a timed loop).
const std::int64_t* labels(std::size_t n) {
  static std::map<std::size_t, std::vector<std::int64_t>> by_n;
  std::vector<std::int64_t>& l = by_n[n];
  if (l.empty()) {
    std::mt19937_64 rng(20261130 + n);
    std::uniform_int_distribution<std::int64_t> label(0, static_cast<std::int64_t>(n) - 1);
    l.resize(kBatchElements / n);
    for (std::int64_t& v : l) v = label(rng);
  }
  return l.data();
}

const std::uint8_t* keep_mask() {
  static const Buffer<std::uint8_t> keep = [] {
    constexpr std::size_t kBlock = 16;  // the smallest n of any shape
    Buffer<std::uint8_t> b = allocate<std::uint8_t>(kBatchElements);
    std::uint8_t* k = b.get();
    std::mt19937_64 rng(20261131);
    for (std::size_t i = 0; i < kBatchElements; ++i) k[i] = (rng() & 7) != 0;  // masked out: 1 in 8
    // A block with nothing kept (8^-16 likely) keeps its first entry, so no row is fully masked.
    for (std::size_t i = 0; i < kBatchElements; i += kBlock)
      if (std::none_of(k + i, k + i + kBlock, [](std::uint8_t v) { return v != 0; })) k[i] = 1;
    return b;
  }();
  return keep.get();
}

template <typename T>
const T* upstream() {
  static const Buffer<T> dy = [] {
    Buffer<T> b = allocate<T>(kBatchElements);
    std::mt19937_64 rng(20261132);
    std::normal_distribution<T> gradient(T(0), T(1));
    for (std::size_t i = 0; i < kBatchElements; ++i) b.get()[i] = gradient(rng);
    return b;
  }();
  return dy.get();
}
template const float* upstream<float>();
template const double* upstream<double>();

template <typename T>
const T* probabilities(const Shape& shape) {
  struct Slot {
    Buffer<T> y = allocate<T>(kBatchElements);
    std::size_t n = 0, rows = 0;  // the rows of n it holds
  };
  static Slot slot;
  if (slot.n != shape.n || slot.rows < shape.rows) {
    const std::size_t n = shape.n;
    for (std::size_t r = 0; r < shape.rows; ++r) {
      const T* row = input<T>() + r * n;
      const Ref<T> lse = row_lse(row, n);
      for (std::size_t j = 0; j < n; ++j) slot.y.get()[r * n + j] = static_cast<T>(std::exp(row[j] - lse));
    }
    slot.n = n;
    slot.rows = shape.rows;
  }
  return slot.y.get();
}
template const float* probabilities<float>(const Shape&);
template const double* probabilities<double>(const Shape&);

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

void time_units(benchmark::State& state, const Shape& s, std::size_t units,
                const std::function<void(std::size_t, std::size_t)>& body) {
  for (auto _ : state) {
    if (s.kind == Case::threads) parallel_rows(units, body);
    else body(0, units);
    benchmark::ClobberMemory();
  }
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

// The order of the functions within a case: the limits, then kFns's order (softmax, log_softmax
// and logsumexp first, as before the others were added).
int function_rank(const std::string& f) {
  int rank = 0;
  for (std::string_view limit : {"copy", "read", "add"}) {
    if (f == limit) return rank;
    ++rank;
  }
  for (Fn fn : kFns) {
    if (f == fn_name(fn)) return rank;
    ++rank;
  }
  return rank;
}

// The measured function named `name`; none for a limit.
std::optional<Fn> measured(std::string_view name) {
  for (Fn f : kFns)
    if (fn_name(f) == name) return f;
  return std::nullopt;
}

}  // namespace

void add(std::string_view function, std::string_view impl, Kind /*kind*/, const Shape& shape,
         std::function<void(benchmark::State&)> run) {
  pending().push_back({std::string(function), std::string(impl), shape, std::move(run)});
}

void register_all() {
  // SOFTCERT_BENCH_ITERATIONS=k: every benchmark runs one loop of exactly k iterations, no
  // estimation runs: what bench/instructions.py counts under callgrind, one loop per benchmark.
  long iterations = 0;
  if (const char* env = std::getenv("SOFTCERT_BENCH_ITERATIONS")) iterations = std::atol(env);
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
    // The output entries finish() checks are poisoned first, so a call that writes nothing cannot
    // pass on what the previous benchmark left there.
    auto poisoned = [shape, f = measured(p.function), run = std::move(p.run)](benchmark::State& state) {
      if (f && shape.dtype == Dtype::f32) poison<float>(*f, shape);
      if (f && shape.dtype == Dtype::f64) poison<double>(*f, shape);
      run(state);
    };
    auto* b = benchmark::RegisterBenchmark(name.c_str(), std::move(poisoned))->UseRealTime()->Unit(benchmark::kMillisecond);
    if (iterations > 0) b->Iterations(iterations);
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

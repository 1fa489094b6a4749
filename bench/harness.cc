#include "harness.hpp"

#include <algorithm>
#include <barrier>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <random>
#include <string>
#include <thread>
#include <tuple>

namespace softcert::bench {

std::string_view case_name(Case c) {
  switch (c) {
    case Case::batch: return "batch";
    case Case::cache: return "cache";
    case Case::threads: return "threads";
  }
  return "?";
}

std::string_view fn_name(Fn f) {
  switch (f) {
    case Fn::softmax: return "softmax";
    case Fn::log_softmax: return "log_softmax";
    case Fn::logsumexp: return "logsumexp";
  }
  return "?";
}

const std::vector<Shape>& shapes() {
  static const std::vector<Shape> all = [] {
    std::vector<Shape> v;
    for (std::size_t n : {16, 128, 1024, 8192, 65536, 1048576}) v.push_back({Case::batch, kBatchElements / n, n});
    for (std::size_t n : {16, 128, 1024, 8192, 32768}) v.push_back({Case::cache, kCacheElements / n, n});
    for (std::size_t n : {1024, 65536}) v.push_back({Case::threads, kBatchElements / n, n});
    return v;
  }();
  return all;
}

namespace {

struct FreeDeleter {
  void operator()(float* p) const { std::free(p); }
};

// 64-byte aligned (a cache line, an AVX-512 vector); every page touched now, not in a timed loop.
std::unique_ptr<float, FreeDeleter> allocate(std::size_t count) {
  void* p = std::aligned_alloc(64, count * sizeof(float));
  if (p == nullptr) throw std::bad_alloc();
  std::memset(p, 0, count * sizeof(float));
  return std::unique_ptr<float, FreeDeleter>(static_cast<float*>(p));
}

struct Arrays {
  std::unique_ptr<float, FreeDeleter> x = allocate(kBatchElements);
  std::unique_ptr<float, FreeDeleter> y = allocate(kBatchElements);
  Arrays() {
    std::mt19937_64 rng(20261129);
    std::normal_distribution<float> logit(0.0f, 3.0f);
    float* p = x.get();
    for (std::size_t i = 0; i < kBatchElements; ++i) p[i] = logit(rng);
  }
};

Arrays& arrays() {
  static Arrays a;
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

// Row i of the reference, in double: the softmax family's exact-enough values for a sanity check.
double row_lse(const float* row, std::size_t n) {
  double m = -INFINITY;
  for (std::size_t j = 0; j < n; ++j) m = std::fmax(m, row[j]);
  double s = 0;
  for (std::size_t j = 0; j < n; ++j) s += std::exp(static_cast<double>(row[j]) - m);
  return m + std::log(s);
}

std::string show(double v) {
  char text[40];
  std::snprintf(text, sizeof text, "%.9g", v);
  return text;
}

// Empty when the output of `f` for row r is right to a sanity tolerance, else what is wrong. Not an
// accuracy check (softcert certify is one): it catches a call that did not compute the function,
// and lets through the drift of a plain f32 sum over 10^6 terms (about 1e-3 relative, seen in
// `stable` and OpenCV at n = 1M). softmax: 5% relative; log_softmax and logsumexp: 0.05 absolute
// plus 1e-4 of the magnitudes involved.
std::string check_row(Fn f, const float* x, const float* y, std::size_t r, std::size_t n) {
  const float* row = x + r * n;
  const double lse = row_lse(row, n);
  if (f == Fn::logsumexp) {
    if (!(std::fabs(y[r] - lse) <= 0.05 + 1e-4 * std::fabs(lse))) {
      return "row " + std::to_string(r) + ": logsumexp " + show(y[r]) + ", expected " + show(lse);
    }
    return {};
  }
  const float* out = y + r * n;
  for (std::size_t j = 0; j < n; ++j) {
    const double z = static_cast<double>(row[j]) - lse;
    const double want = f == Fn::softmax ? std::exp(z) : z;
    const double tolerance =
        f == Fn::softmax ? 0.05 * want + 1e-30 : 0.05 + 1e-4 * (std::fabs(row[j]) + std::fabs(lse));
    if (!(std::fabs(out[j] - want) <= tolerance)) {
      return "row " + std::to_string(r) + " entry " + std::to_string(j) + ": " + show(out[j]) + ", expected " +
             show(want);
    }
  }
  return {};
}

}  // namespace

const float* input() { return arrays().x.get(); }
float* output() { return arrays().y.get(); }

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
  // Case, then function (limits first), then n: every implementation of one problem runs next to
  // the others, so a change of machine load between problems shifts them all alike.
  std::stable_sort(pending().begin(), pending().end(), [](const Pending& a, const Pending& b) {
    const auto key = [](const Pending& p) {
      return std::tuple(static_cast<int>(p.shape.kind), function_rank(p.function), p.shape.n);
    };
    return key(a) < key(b);
  });
  for (Pending& p : pending()) {
    const Shape shape = p.shape;
    const std::string name = "f32_" + p.function + "/" + p.impl + "/" + std::string(case_name(shape.kind)) + "/" +
                             std::to_string(shape.n);
    // The output rows finish() checks are poisoned first, so a call that writes nothing cannot
    // pass on what the previous benchmark left there.
    auto poisoned = [shape, run = std::move(p.run)](benchmark::State& state) {
      float* y = output();
      const std::size_t last = (shape.rows - 1) * shape.n;
      std::fill(y, y + shape.n, NAN);
      std::fill(y + last, y + last + shape.n, NAN);
      y[shape.rows - 1] = NAN;
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
    for (std::size_t r : {std::size_t{0}, shape.rows - 1}) {
      const std::string wrong = check_row(*checked, input(), output(), r, shape.n);
      if (!wrong.empty()) {
        state.SkipWithError(("wrong output: " + wrong).c_str());
        return;
      }
    }
  }
}

void note(const std::string& key, const std::string& value) { benchmark::AddCustomContext(key, value); }

}  // namespace softcert::bench

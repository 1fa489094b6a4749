// lib's algorithms: every entry of builtin_implementations() (stable, online, accurate, simd, and
// whatever is added later), every f32 and f64 kernel of the measured functions it provides (all of
// the ABI's but attention), called through its ABI table exactly as the certifier and the plugins
// call it. One registration loop and one timed loop for every function; what differs between
// functions is only how a call is bound to its arrays (run()).
#include <atomic>
#include <string>

#include "harness.hpp"
#include "softcert/implementation.hpp"

namespace softcert::bench {

namespace {

// The timed loop of every lib benchmark: call(first, end) runs the kernel on the units [first,
// end) of the shape (rows, or elements for sigmoid), on this thread for all `units`, or split in
// contiguous chunks over the pool (threads case). Then finish(), which checks the output.
template <typename Call>
void time_calls(benchmark::State& state, Fn f, const Shape& s, std::size_t units, const Call& call) {
  std::atomic<int> status{0};  // written by every thread of the pool in the threads case
  time_units(state, s, units, [&](std::size_t first, std::size_t end) {
    if (const int st = call(first, end); st != 0) status.store(st, std::memory_order_relaxed);
  });
  if (const int st = status.load(); st != 0) {
    state.SkipWithError(("declined: " + std::string(status_name(st))).c_str());
    return;
  }
  finish(state, Kind::lib, s, f);
}

// f's kernel of `k` on shape s: its inputs (made here, outside the timed loop, on first use) and
// the output, bound to the units [first, end) of one call.
template <typename T>
void run(benchmark::State& state, const TypedKernels<T>& k, Fn f, const Shape& s) {
  const T* x = input<T>();
  T* y = output<T>();
  const std::size_t n = s.n;
  const auto rows = [&](const auto& call) { time_calls(state, f, s, s.rows, call); };
  switch (f) {
    case Fn::softmax:
      return rows([&](std::size_t a, std::size_t b) { return k.softmax(x + a * n, y + a * n, b - a, n); });
    case Fn::log_softmax:
      return rows([&](std::size_t a, std::size_t b) { return k.log_softmax(x + a * n, y + a * n, b - a, n); });
    case Fn::logsumexp:
      return rows([&](std::size_t a, std::size_t b) { return k.logsumexp(x + a * n, y + a, b - a, n); });
    case Fn::softmax_temperature: {
      const T t = static_cast<T>(kTemperature);
      return rows(
          [&](std::size_t a, std::size_t b) { return k.softmax_temperature(x + a * n, y + a * n, b - a, n, t); });
    }
    case Fn::sigmoid:
      return time_calls(state, f, s, s.elements(),
                        [&](std::size_t a, std::size_t b) { return k.sigmoid(x + a, y + a, b - a); });
    case Fn::cross_entropy: {
      const std::int64_t* labels = bench::labels(n);
      return rows(
          [&](std::size_t a, std::size_t b) { return k.cross_entropy(x + a * n, labels + a, y + a, b - a, n); });
    }
    case Fn::cross_entropy_grad: {
      const std::int64_t* labels = bench::labels(n);
      return rows([&](std::size_t a, std::size_t b) {
        return k.cross_entropy_grad(x + a * n, labels + a, y + a * n, b - a, n);
      });
    }
    case Fn::softmax_backward: {
      const T* probabilities = bench::probabilities<T>(s);
      const T* dy = upstream<T>();
      return rows([&](std::size_t a, std::size_t b) {
        return k.softmax_backward(probabilities + a * n, dy + a * n, y + a * n, b - a, n);
      });
    }
    case Fn::masked_softmax: {
      const std::uint8_t* keep = keep_mask();
      return rows(
          [&](std::size_t a, std::size_t b) { return k.masked_softmax(x + a * n, keep + a * n, y + a * n, b - a, n); });
    }
  }
}

// Every kernel of element type T of every builtin, on every shape of its function and dtype.
template <typename T>
void register_typed() {
  for (const Implementation& impl : builtin_implementations()) {
    for (Fn f : kFns) {
      if (!provides<T>(impl, f)) continue;
      for (const Shape& s : shapes(dtype_of<T>(), f)) {
        add(fn_name(f), impl.name, Kind::lib, s,
            [&impl, f, s](benchmark::State& state) { run<T>(state, impl.kernels<T>(), f, s); });
      }
    }
  }
}

}  // namespace

void register_lib() {
  register_typed<float>();
  register_typed<double>();
}

}  // namespace softcert::bench

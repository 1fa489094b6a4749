// lib's algorithms: every entry of builtin_implementations() (stable, online, accurate, simd, and
// whatever is added later), every f32 and f64 kernel of the softmax family it provides, called
// through its ABI table exactly as the certifier and the plugins call it.
#include <string>

#include "harness.hpp"
#include "softcert/implementation.hpp"

namespace softcert::bench {

namespace {

template <typename T>
using Kernel = int (*)(const T*, T*, std::size_t, std::size_t);

template <typename T>
Kernel<T> kernel_of(const Implementation& impl, Fn f) {
  const TypedKernels<T>& k = impl.kernels<T>();
  switch (f) {
    case Fn::softmax: return k.softmax;
    case Fn::log_softmax: return k.log_softmax;
    case Fn::logsumexp: return k.logsumexp;
  }
  return nullptr;
}

// Where row `first` of the output starts: logsumexp writes one value per row.
std::size_t out_offset(Fn f, std::size_t first, std::size_t n) { return f == Fn::logsumexp ? first : first * n; }

// Every kernel of element type T of every builtin, on every shape of that dtype.
template <typename T>
void register_typed() {
  for (const Implementation& impl : builtin_implementations()) {
    for (Fn f : kFns) {
      const Kernel<T> k = kernel_of<T>(impl, f);
      if (k == nullptr) continue;
      for (const Shape& s : shapes(dtype_of<T>())) {
        add(fn_name(f), impl.name, Kind::lib, s, [k, f, s](benchmark::State& state) {
          const T* x = input<T>();
          T* y = output<T>();
          int status = 0;
          if (s.kind == Case::threads) {
            for (auto _ : state) {
              parallel_rows(s.rows, [&](std::size_t first, std::size_t end) {
                const int st = k(x + first * s.n, y + out_offset(f, first, s.n), end - first, s.n);
                if (st != 0) status = st;
              });
              benchmark::ClobberMemory();
            }
          } else {
            for (auto _ : state) {
              status |= k(x, y, s.rows, s.n);
              benchmark::ClobberMemory();
            }
          }
          if (status != 0) {
            state.SkipWithError(("declined: " + std::string(status_name(status))).c_str());
            return;
          }
          finish(state, Kind::lib, s, f);
        });
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

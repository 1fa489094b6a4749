// libtorch, through ATen's own operators, the way a libtorch user calls them: at::softmax_out,
// at::log_softmax_out (dim 1) and at::logsumexp_out (dim {1}) on tensors that wrap the harness's
// arrays with at::from_blob (no copy; the out= forms write into the output array, so no
// allocation in the timed loop), under c10::InferenceMode. Tensors are made once per shape.
// Threads: at::set_num_threads(1), or every core for the `threads` case. Both dtypes: f32 tensors
// are at::kFloat, f64 ones at::kDouble over the harness's double arrays (ATen's own f64 kernels,
// the same operators).
//
// libtorch picks its CPU kernels (DEFAULT, AVX2, AVX512) once, from ATEN_CPU_CAPABILITY in the
// environment, else the best its build allows (AVX2 for Debian's 1.13 even on an AVX-512 CPU).
// The implementation is named after it: `libtorch` when the variable is unset, `libtorch-avx512`
// for ATEN_CPU_CAPABILITY=avx512. bench/run.sh runs the binary a second time with the variable
// set (filter /libtorch) and merges; the capability libtorch reports is recorded in the context.
// ATEN_CPU_CAPABILITY=avx512 on a CPU without AVX-512 would die of SIGILL inside libtorch: then
// libtorch is not registered, and the context says why.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <torch/version.h>

#include <cctype>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>
#include <type_traits>

#include "../harness.hpp"

namespace softcert::bench {

namespace {

bool cpu_has_avx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
}

// The "CPU capability usage: AVX2" line of at::show_config().
std::string used_capability() {
  std::istringstream config(at::show_config());
  for (std::string line; std::getline(config, line);) {
    const auto at = line.find("CPU capability usage:");
    if (at != std::string::npos) return line.substr(at + 22);
  }
  return "unknown";
}

template <typename T>
struct Setup {
  at::Tensor x, y;
  Setup(Fn f, const Shape& s) {
    const auto options = at::TensorOptions().dtype(std::is_same_v<T, float> ? at::kFloat : at::kDouble);
    const auto rows = static_cast<std::int64_t>(s.rows), n = static_cast<std::int64_t>(s.n);
    x = at::from_blob(const_cast<T*>(input<T>()), {rows, n}, options);
    y = f == Fn::logsumexp ? at::from_blob(output<T>(), {rows}, options)
                           : at::from_blob(output<T>(), {rows, n}, options);
  }
};

// softmax, log_softmax and logsumexp of element type T on every shape of that dtype, as `name`.
template <typename T>
void register_typed(const std::string& name) {
  for (Fn f : kFns) {
    for (const Shape& s : shapes(dtype_of<T>())) {
      auto setup = std::make_shared<std::unique_ptr<Setup<T>>>();
      add(fn_name(f), name, Kind::peer, s, [setup, f, s](benchmark::State& state) {
        c10::InferenceMode guard;
        at::set_num_threads(s.kind == Case::threads ? static_cast<int>(thread_count()) : 1);
        try {
          if (!*setup) *setup = std::make_unique<Setup<T>>(f, s);
          Setup<T>& u = **setup;
          switch (f) {
            case Fn::softmax:
              for (auto _ : state) at::softmax_out(u.y, u.x, 1);
              break;
            case Fn::log_softmax:
              for (auto _ : state) at::log_softmax_out(u.y, u.x, 1);
              break;
            case Fn::logsumexp:
              for (auto _ : state) at::logsumexp_out(u.y, u.x, {1}, false);
              break;
          }
          // out= may reallocate on a shape or type mismatch: then it did not write our array.
          if (u.y.data_ptr() != static_cast<void*>(output<T>())) throw std::runtime_error("out= tensor reallocated");
        } catch (const std::exception& e) {
          at::set_num_threads(1);
          state.SkipWithError((std::string("libtorch: ") + e.what()).c_str());
          return;
        }
        at::set_num_threads(1);
        finish(state, Kind::peer, s, f);
      });
    }
  }
}

}  // namespace

void register_libtorch() {
  std::string name = "libtorch";
  if (const char* env = std::getenv("ATEN_CPU_CAPABILITY"); env != nullptr && *env != '\0') {
    std::string capability(env);
    for (char& c : capability) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    name += "-" + capability;
    if (capability == "avx512" && !cpu_has_avx512()) {
      note(name, "not measured: ATEN_CPU_CAPABILITY=avx512 but this CPU lacks AVX-512 (F/VL/BW/DQ)");
      return;
    }
  }
  note(name + "_version", TORCH_VERSION);
  note(name + "_cpu_capability", used_capability());
  register_typed<float>(name);
  register_typed<double>(name);
}

}  // namespace softcert::bench

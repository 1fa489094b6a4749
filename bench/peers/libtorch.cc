// libtorch, through ATen's own operators, the way a libtorch user calls them: at::softmax_out,
// at::log_softmax_out (dim 1) and at::logsumexp_out (dim {1}) on tensors that wrap the harness's
// arrays with at::from_blob (no copy; the out= forms write into the output array, so no
// allocation in the timed loop), under c10::InferenceMode. Tensors are made once per shape.
// The other functions, each with ATen's out= or in-place forms into preallocated tensors (the
// intermediates in two scratch arrays), so nothing is allocated in the timed loop either:
//   sigmoid              at::sigmoid_out
//   softmax_backward     at::_softmax_backward_data_out(dx, dy, y, 1, dtype): autograd's kernel
//   softmax_temperature  at::div_out(q, x, t), at::softmax_out(y, q, 1): softmax(x / t) as written
//   masked_softmax       q.copy_(x), q.masked_fill_(~keep, -inf), at::softmax_out(y, q, 1): what
//                        x.masked_fill(~keep, -inf).softmax(1) runs (masked_fill is clone +
//                        masked_fill_), with the bool mask (true = masked out) made once. Not
//                        at::_masked_softmax (same mask convention): private, and on CPU a
//                        generic scalar loop that allocates its output (1.13's out= form is the
//                        composite wrapper: the functional call, then a copy).
//   cross_entropy        at::log_softmax_out(l, x, 1), at::nll_loss_forward_out(loss, w, l, labels,
//                        {}, Reduction::None, -100): what at::cross_entropy_loss(x, labels, {},
//                        Reduction::None) runs (log_softmax, then nll_loss), which has no out= form.
//   cross_entropy_grad   at::log_softmax_out(l, x, 1) (the forward's, which the gradient needs),
//                        then the two kernels autograd runs for cross_entropy's backward with
//                        grad = ones: at::nll_loss_backward_out(g, ones, l, labels, {}, None, -100,
//                        w), at::_log_softmax_backward_data_out(dz, g, l, 1, dtype). The loss
//                        itself (nll_loss forward) is not needed for the gradient and not timed.
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
#include <cmath>
#include <cstdlib>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

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
constexpr at::ScalarType scalar_type() {
  return std::is_same_v<T, float> ? at::kFloat : at::kDouble;
}
template <typename T>
at::TensorOptions options() {
  return at::TensorOptions().dtype(scalar_type<T>());
}

// rows × n as ATen's sizes.
std::vector<std::int64_t> sizes(const Shape& s) {
  return {static_cast<std::int64_t>(s.rows), static_cast<std::int64_t>(s.n)};
}

// A tensor over one of the harness's arrays (no copy).
template <typename E>
at::Tensor wrap(const E* data, at::IntArrayRef sizes, at::TensorOptions o) {
  return at::from_blob(const_cast<E*>(data), sizes, o);
}

// Intermediate results (x / t, the masked logits, log-probabilities, nll_loss's gradient): two
// arrays of kBatchElements per dtype, made and touched once, viewed as each shape's rows × n.
template <typename T>
at::Tensor scratch(int which, const Shape& s) {
  static auto* buffers = new at::Tensor[2];  // never destroyed: exit order is not ours
  at::Tensor& b = buffers[which];
  if (!b.defined()) b = at::zeros({static_cast<std::int64_t>(kBatchElements)}, options<T>());
  return b.narrow(0, 0, static_cast<std::int64_t>(s.elements())).view(sizes(s));
}

// masked_softmax's mask as PyTorch code holds one, bool with true = masked out (~keep), made once
// from the harness's keep mask, outside any timed loop.
at::Tensor masked_out(const Shape& s) {
  static const auto* all =  // never destroyed, like scratch
      new at::Tensor(wrap(keep_mask(), {static_cast<std::int64_t>(kBatchElements)}, at::kByte).eq(0));
  return all->narrow(0, 0, static_cast<std::int64_t>(s.elements())).view(sizes(s));
}

// One call of f on shape s through ATen's own operators, bound to tensors over the harness's arrays
// (made once per shape); `out` wraps the output array: an out= that reallocated it did not write
// there.
template <typename T>
struct Setup {
  std::function<void()> call;
  at::Tensor out;

  Setup(Fn f, const Shape& s) {
    const auto o = options<T>();
    const auto rows = static_cast<std::int64_t>(s.rows);
    const at::Tensor x = wrap(input<T>(), sizes(s), o);
    out = f == Fn::logsumexp || f == Fn::cross_entropy ? wrap(output<T>(), {rows}, o) : wrap(output<T>(), sizes(s), o);
    at::Tensor y = out;
    switch (f) {
      case Fn::softmax: call = [=]() mutable { at::softmax_out(y, x, 1); }; break;
      case Fn::log_softmax: call = [=]() mutable { at::log_softmax_out(y, x, 1); }; break;
      case Fn::logsumexp: call = [=]() mutable { at::logsumexp_out(y, x, {1}, false); }; break;
      case Fn::softmax_temperature: {  // softmax(x / t) as users write it, the quotient preallocated
        const at::Scalar t(static_cast<T>(kTemperature));
        at::Tensor quotient = scratch<T>(0, s);
        call = [=]() mutable {
          at::div_out(quotient, x, t);
          at::softmax_out(y, quotient, 1);
        };
        break;
      }
      case Fn::sigmoid: call = [=]() mutable { at::sigmoid_out(y, x); }; break;
      case Fn::cross_entropy: {  // what at::cross_entropy_loss(x, labels, {}, None) runs, out= forms
        const at::Tensor labels = wrap(bench::labels(s.n), {rows}, at::kLong);
        at::Tensor log_p = scratch<T>(0, s), total_weight = at::zeros({}, o);
        call = [=]() mutable {
          at::log_softmax_out(log_p, x, 1);
          at::nll_loss_forward_out(y, total_weight, log_p, labels, {}, at::Reduction::None, -100);
        };
        break;
      }
      case Fn::cross_entropy_grad: {  // the forward's log_softmax, then autograd's two backward kernels
        const at::Tensor labels = wrap(bench::labels(s.n), {rows}, at::kLong);
        const at::Tensor ones = at::ones({rows}, o), total_weight = at::zeros({}, o);
        at::Tensor log_p = scratch<T>(0, s), grad_log_p = scratch<T>(1, s);
        call = [=]() mutable {
          at::log_softmax_out(log_p, x, 1);
          at::nll_loss_backward_out(grad_log_p, ones, log_p, labels, {}, at::Reduction::None, -100, total_weight);
          at::_log_softmax_backward_data_out(y, grad_log_p, log_p, 1, scalar_type<T>());
        };
        break;
      }
      case Fn::softmax_backward: {
        const at::Tensor probabilities = wrap(bench::probabilities<T>(s), sizes(s), o);
        const at::Tensor dy = wrap(upstream<T>(), sizes(s), o);
        call = [=]() mutable {
          at::_softmax_backward_data_out(y, dy, probabilities, 1, scalar_type<T>());
        };
        break;
      }
      case Fn::masked_softmax: {  // x.masked_fill(~keep, -inf).softmax(-1) as users write it
        const at::Tensor mask = masked_out(s);
        at::Tensor filled = scratch<T>(0, s);
        call = [=]() mutable {
          filled.copy_(x);  // at::masked_fill is clone + masked_fill_: the same two passes
          filled.masked_fill_(mask, -INFINITY);
          at::softmax_out(y, filled, 1);
        };
        break;
      }
    }
  }
};

// The functions libtorch has (all measured ones), element type T, every shape, as `name`.
template <typename T>
void register_typed(const std::string& name) {
  for (Fn f : kFns) {
    for (const Shape& s : shapes(dtype_of<T>(), f)) {
      auto setup = std::make_shared<std::unique_ptr<Setup<T>>>();
      add(fn_name(f), name, Kind::peer, s, [setup, f, s](benchmark::State& state) {
        c10::InferenceMode guard;
        at::set_num_threads(s.kind == Case::threads ? static_cast<int>(thread_count()) : 1);
        try {
          if (!*setup) *setup = std::make_unique<Setup<T>>(f, s);
          Setup<T>& u = **setup;
          for (auto _ : state) u.call();
          // out= may reallocate on a shape or type mismatch: then it did not write our array.
          if (u.out.data_ptr() != static_cast<void*>(output<T>())) throw std::runtime_error("out= tensor reallocated");
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

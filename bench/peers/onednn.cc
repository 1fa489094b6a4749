// oneDNN, through its own C++ API, on memory objects that wrap the harness's arrays (no copy):
//   softmax           softmax_v2 forward inference, algorithm softmax_accurate
//   log_softmax       softmax_v2 forward inference, algorithm softmax_log
//   softmax_backward  softmax_v2 backward, algorithm softmax_accurate (dst = y, diff_dst = dy,
//                     diff_src = dx), with the forward-training primitive descriptor as its hint
//   sigmoid           eltwise forward inference, algorithm eltwise_logistic, on a 1-D tensor
// The row functions on a 2-D f32 tensor {rows, n}, format ab, axis 1. Engine, stream, primitive
// descriptors and primitive are created once per shape, outside the timed loop; the loop is
// execute + wait. oneDNN has no logsumexp, cross-entropy, masked or tempered softmax primitive:
// absent for those. Threads: Debian builds oneDNN with OpenMP, so the thread count is
// omp_set_num_threads (1, or every core for the `threads` case).
// f32 only: oneDNN 2.6 has no f64 data type at all (dnnl_data_type_t: f16, bf16, f32, s32, s8,
// u8), so there is no f64 softmax to measure.
#include <omp.h>

#include <dnnl.hpp>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "../harness.hpp"

namespace softcert::bench {

namespace {

using dnnl::algorithm;
using dnnl::memory;
using dnnl::prop_kind;

struct Setup {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  dnnl::primitive primitive;
  std::unordered_map<int, memory> args;
  std::string impl;  // the kernel oneDNN picked, e.g. "jit:avx512_core"

  // bound = false: the primitive only, its memory objects without data (for the note of the kernel
  // oneDNN picks, made at registration: it must not make the inputs of every function).
  Setup(Fn f, const Shape& s, bool bound = true) : bound_(bound) {
    const memory::desc rows({static_cast<memory::dim>(s.rows), static_cast<memory::dim>(s.n)},
                            memory::data_type::f32, memory::format_tag::ab);
    switch (f) {
      case Fn::softmax:
      case Fn::log_softmax: {
        const algorithm a = f == Fn::softmax ? algorithm::softmax_accurate : algorithm::softmax_log;
        const dnnl::softmax_v2_forward::primitive_desc pd(
            dnnl::softmax_v2_forward::desc(prop_kind::forward_inference, a, rows, rows, 1), engine);
        set<dnnl::softmax_v2_forward>(pd, {{DNNL_ARG_SRC, wrap(rows, [] { return input<float>(); })},
                                           {DNNL_ARG_DST, wrap(rows, [] { return output<float>(); })}});
        break;
      }
      case Fn::softmax_backward: {
        const dnnl::softmax_v2_forward::primitive_desc hint(
            dnnl::softmax_v2_forward::desc(prop_kind::forward_training, algorithm::softmax_accurate, rows, rows, 1),
            engine);
        const dnnl::softmax_v2_backward::primitive_desc pd(
            dnnl::softmax_v2_backward::desc(algorithm::softmax_accurate, rows, rows, rows, 1), engine, hint);
        set<dnnl::softmax_v2_backward>(pd, {{DNNL_ARG_DST, wrap(rows, [&] { return probabilities<float>(s); })},
                                            {DNNL_ARG_DIFF_DST, wrap(rows, [] { return upstream<float>(); })},
                                            {DNNL_ARG_DIFF_SRC, wrap(rows, [] { return output<float>(); })}});
        break;
      }
      case Fn::sigmoid: {
        const memory::desc all({static_cast<memory::dim>(s.elements())}, memory::data_type::f32, memory::format_tag::a);
        const dnnl::eltwise_forward::primitive_desc pd(
            dnnl::eltwise_forward::desc(prop_kind::forward_inference, algorithm::eltwise_logistic, all, 0.f, 0.f),
            engine);
        set<dnnl::eltwise_forward>(pd, {{DNNL_ARG_SRC, wrap(all, [] { return input<float>(); })},
                                        {DNNL_ARG_DST, wrap(all, [] { return output<float>(); })}});
        break;
      }
      default: throw std::logic_error("oneDNN has no " + std::string(fn_name(f)));
    }
  }

 private:
  bool bound_;

  // A memory object over the harness's array data() (no copy), or without data when not bound.
  template <typename Data>
  memory wrap(const memory::desc& md, const Data& data) {
    if (!bound_) return memory(md, engine, DNNL_MEMORY_NONE);
    return memory(md, engine, const_cast<float*>(data()));
  }

  template <typename Primitive>
  void set(const typename Primitive::primitive_desc& pd, std::unordered_map<int, memory> arguments) {
    impl = pd.impl_info_str();
    primitive = Primitive(pd);
    args = std::move(arguments);
  }
};

// The functions oneDNN has.
constexpr Fn kOneDnnFns[] = {Fn::softmax, Fn::log_softmax, Fn::sigmoid, Fn::softmax_backward};

}  // namespace

void register_onednn() {
  const dnnl_version_t* v = dnnl_version();
  note("onednn_version", std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch) +
                             " (" + v->hash + ", cpu runtime " + std::to_string(v->cpu_runtime) + ")");
  for (Fn f : kOneDnnFns) {
    try {
      note("onednn_impl_" + std::string(fn_name(f)), Setup(f, Shape{Case::batch, 16, 1024}, false).impl);
    } catch (const dnnl::error& e) {
      note("onednn_impl_" + std::string(fn_name(f)), std::string("unavailable: ") + e.what());
    }
    for (const Shape& s : shapes(Dtype::f32, f)) {
      auto setup = std::make_shared<std::unique_ptr<Setup>>();
      add(fn_name(f), "onednn", Kind::peer, s, [setup, f, s](benchmark::State& state) {
        omp_set_num_threads(s.kind == Case::threads ? static_cast<int>(thread_count()) : 1);
        try {
          if (!*setup) *setup = std::make_unique<Setup>(f, s);
          Setup& u = **setup;
          for (auto _ : state) {
            u.primitive.execute(u.stream, u.args);
            u.stream.wait();
          }
        } catch (const dnnl::error& e) {
          omp_set_num_threads(1);
          state.SkipWithError((std::string("oneDNN: ") + e.what()).c_str());
          return;
        }
        omp_set_num_threads(1);
        finish(state, Kind::peer, s, f);
      });
    }
  }
}

}  // namespace softcert::bench

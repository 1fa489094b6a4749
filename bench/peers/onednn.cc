// oneDNN, through its own C++ API: softmax_v2 forward inference (algorithm softmax_accurate for
// softmax, softmax_log for log_softmax) on a 2-D f32 tensor {rows, n}, format ab, axis 1; the
// memory objects wrap the harness's arrays (no copy). Engine, stream, primitive descriptor and
// primitive are created once per shape, outside the timed loop; the loop is execute + wait.
// oneDNN has no logsumexp primitive: absent for it. Threads: Debian builds oneDNN with OpenMP,
// so the thread count is omp_set_num_threads (1, or every core for the `threads` case).
// f32 only: oneDNN 2.6 has no f64 data type at all (dnnl_data_type_t: f16, bf16, f32, s32, s8,
// u8), so there is no f64 softmax to measure.
#include <omp.h>

#include <dnnl.hpp>
#include <memory>
#include <string>
#include <unordered_map>

#include "../harness.hpp"

namespace softcert::bench {

namespace {

struct Setup {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  dnnl::primitive primitive;
  dnnl::memory src, dst;
  std::string impl;  // the kernel oneDNN picked, e.g. "jit:avx512_core"

  Setup(dnnl::algorithm algorithm, const Shape& s) {
    const dnnl::memory::desc md({static_cast<dnnl::memory::dim>(s.rows), static_cast<dnnl::memory::dim>(s.n)},
                                dnnl::memory::data_type::f32, dnnl::memory::format_tag::ab);
    const dnnl::softmax_v2_forward::desc d(dnnl::prop_kind::forward_inference, algorithm, md, md, 1);
    const dnnl::softmax_v2_forward::primitive_desc pd(d, engine);
    impl = pd.impl_info_str();
    primitive = dnnl::softmax_v2_forward(pd);
    src = dnnl::memory(md, engine, const_cast<float*>(input<float>()));
    dst = dnnl::memory(md, engine, output<float>());
  }
};

}  // namespace

void register_onednn() {
  const dnnl_version_t* v = dnnl_version();
  note("onednn_version", std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch) +
                             " (" + v->hash + ", cpu runtime " + std::to_string(v->cpu_runtime) + ")");
  for (Fn f : {Fn::softmax, Fn::log_softmax}) {
    const dnnl::algorithm algorithm =
        f == Fn::softmax ? dnnl::algorithm::softmax_accurate : dnnl::algorithm::softmax_log;
    try {
      note("onednn_impl_" + std::string(fn_name(f)), Setup(algorithm, Shape{Case::batch, 16, 1024}).impl);
    } catch (const dnnl::error& e) {
      note("onednn_impl_" + std::string(fn_name(f)), std::string("unavailable: ") + e.what());
    }
    for (const Shape& s : shapes(Dtype::f32)) {
      auto setup = std::make_shared<std::unique_ptr<Setup>>();
      add(fn_name(f), "onednn", Kind::peer, s, [setup, algorithm, f, s](benchmark::State& state) {
        omp_set_num_threads(s.kind == Case::threads ? static_cast<int>(thread_count()) : 1);
        try {
          if (!*setup) *setup = std::make_unique<Setup>(algorithm, s);
          Setup& u = **setup;
          const std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, u.src}, {DNNL_ARG_DST, u.dst}};
          for (auto _ : state) {
            u.primitive.execute(u.stream, args);
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

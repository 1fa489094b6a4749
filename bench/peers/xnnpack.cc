// XNNPACK, through its operator API, create and setup once per shape, outside the timed loop; the
// loop is xnn_run_operator:
//   softmax  xnn_create_softmax_nc_f32(channels = n, input stride = n, output stride = n),
//            xnn_setup_softmax_nc_f32(batch = rows, input, output, threadpool)
//   sigmoid  xnn_create_sigmoid_nc_f32(channels = 1, strides 1), xnn_setup_sigmoid_nc_f32(batch =
//            every element, ...): a contiguous vector, which XNNPACK splits in tiles over threads
// Debian's XNNPACK (2022-02) has no log_softmax, logsumexp, cross-entropy, masked or tempered
// softmax, and no softmax backward: absent for those. Threads: no pthreadpool (single thread), or a
// pthreadpool of every core for the `threads` case. f32 only: this XNNPACK's softmax operators are
// xnn_create_softmax_nc_f32 and _qu8, and xnn_datatype has no fp64.
#include <pthreadpool.h>
#include <xnnpack.h>

#include <memory>
#include <string>

#include "../harness.hpp"

namespace softcert::bench {

namespace {

// The create and setup functions of an NC operator (softmax and sigmoid share the signatures).
using Create = xnn_status (*)(std::size_t channels, std::size_t input_stride, std::size_t output_stride,
                              std::uint32_t flags, xnn_operator_t* op);
using SetupOp = xnn_status (*)(xnn_operator_t op, std::size_t batch, const float* input, float* output,
                               pthreadpool_t pool);

struct Setup {
  pthreadpool_t pool = nullptr;
  xnn_operator_t op = nullptr;
  xnn_status status = xnn_status_success;

  // One operator over `batch` rows of `channels` elements of the harness's input and output.
  Setup(Create create, SetupOp setup, std::size_t channels, std::size_t batch, Case kind) {
    if (kind == Case::threads) pool = pthreadpool_create(thread_count());
    status = create(channels, channels, channels, 0, &op);
    if (status == xnn_status_success) status = setup(op, batch, input<float>(), output<float>(), pool);
  }
  ~Setup() {
    if (op != nullptr) xnn_delete_operator(op);
    if (pool != nullptr) pthreadpool_destroy(pool);
  }
  Setup(const Setup&) = delete;
  Setup& operator=(const Setup&) = delete;
};

// Every shape of f, with the operator make_setup(shape) sets up.
template <typename MakeSetup>
void register_fn(Fn f, MakeSetup make_setup) {
  for (const Shape& s : shapes(Dtype::f32, f)) {
    auto setup = std::make_shared<std::unique_ptr<Setup>>();
    add(fn_name(f), "xnnpack", Kind::peer, s, [setup, f, s, make_setup](benchmark::State& state) {
      if (!*setup) *setup = make_setup(s);
      Setup& u = **setup;
      if (u.status != xnn_status_success) {
        state.SkipWithError(("XNNPACK: status " + std::to_string(static_cast<int>(u.status))).c_str());
        return;
      }
      xnn_status status = xnn_status_success;
      for (auto _ : state) status = xnn_run_operator(u.op, u.pool);
      if (status != xnn_status_success) {
        state.SkipWithError(("XNNPACK: xnn_run_operator status " + std::to_string(static_cast<int>(status))).c_str());
        return;
      }
      finish(state, Kind::peer, s, f);
    });
  }
}

}  // namespace

void register_xnnpack() {
  if (xnn_initialize(nullptr) != xnn_status_success) {
    note("xnnpack", "xnn_initialize failed: not measured");
    return;
  }
  register_fn(Fn::softmax, [](const Shape& s) {
    return std::make_unique<Setup>(xnn_create_softmax_nc_f32, xnn_setup_softmax_nc_f32, s.n, s.rows, s.kind);
  });
  register_fn(Fn::sigmoid, [](const Shape& s) {
    return std::make_unique<Setup>(xnn_create_sigmoid_nc_f32, xnn_setup_sigmoid_nc_f32, 1, s.elements(), s.kind);
  });
}

}  // namespace softcert::bench

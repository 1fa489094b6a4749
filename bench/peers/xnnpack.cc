// XNNPACK, through its operator API: xnn_create_softmax_nc_f32(channels = n, input stride = n,
// output stride = n) and xnn_setup_softmax_nc_f32(batch = rows, input, output, threadpool), both
// once per shape, outside the timed loop; the loop is xnn_run_operator. Debian's XNNPACK
// (2022-02) has softmax only: absent for log_softmax and logsumexp. Threads: no pthreadpool
// (single thread), or a pthreadpool of every core for the `threads` case. f32 only: this XNNPACK's
// softmax operators are xnn_create_softmax_nc_f32 and _qu8, and xnn_datatype has no fp64.
#include <pthreadpool.h>
#include <xnnpack.h>

#include <memory>
#include <string>

#include "../harness.hpp"

namespace softcert::bench {

namespace {

struct Setup {
  pthreadpool_t pool = nullptr;
  xnn_operator_t op = nullptr;
  xnn_status status = xnn_status_success;

  explicit Setup(const Shape& s) {
    if (s.kind == Case::threads) pool = pthreadpool_create(thread_count());
    status = xnn_create_softmax_nc_f32(s.n, s.n, s.n, 0, &op);
    if (status == xnn_status_success) {
      status = xnn_setup_softmax_nc_f32(op, s.rows, input<float>(), output<float>(), pool);
    }
  }
  ~Setup() {
    if (op != nullptr) xnn_delete_operator(op);
    if (pool != nullptr) pthreadpool_destroy(pool);
  }
  Setup(const Setup&) = delete;
  Setup& operator=(const Setup&) = delete;
};

}  // namespace

void register_xnnpack() {
  if (xnn_initialize(nullptr) != xnn_status_success) {
    note("xnnpack", "xnn_initialize failed: not measured");
    return;
  }
  for (const Shape& s : shapes(Dtype::f32)) {
    auto setup = std::make_shared<std::unique_ptr<Setup>>();
    add("softmax", "xnnpack", Kind::peer, s, [setup, s](benchmark::State& state) {
      if (!*setup) *setup = std::make_unique<Setup>(s);
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
      finish(state, Kind::peer, s, Fn::softmax);
    });
  }
}

}  // namespace softcert::bench

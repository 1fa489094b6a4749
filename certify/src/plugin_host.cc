// softcert-plugin-host PLUGIN.so: serves one plugin (DESIGN.md §3) over softcert-exec/1 on
// stdin/stdout, in a process of its own, so that whatever the plugin does to its process
// (crash, abort, exit, hang, scribble) cannot reach the certifier. It also watches each call
// for what a crash does not show, and reports it in the answer's note:
//   - writes before or after the output (guard zones of a NaN payload no arithmetic makes),
//   - outputs left unwritten (the output is poisoned with that payload before the call),
//   - a changed input (a copy is compared after the call),
//   - a C++ exception thrown across the C ABI,
//   - a floating-point environment left changed (rounding mode, FTZ/DAZ), which would silently
//     change every later calculation of a program that calls the plugin; it is restored.
// The plugin's own stdout and stderr go to /dev/null: the protocol has its own descriptors.
#include <fcntl.h>
#include <unistd.h>

#include <cfenv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

#include "exec_protocol.hpp"
#include "softcert/properties/agreement.hpp"
#include "softcert/properties/plugin.hpp"

namespace {

using namespace softcert;
using namespace softcert::certify;

int g_in = -1, g_out = -1;

bool read_exact(void* p, std::size_t n) {
  auto* b = static_cast<std::uint8_t*>(p);
  while (n > 0) {
    const ssize_t r = read(g_in, b, n);
    if (r <= 0) return false;
    b += r, n -= static_cast<std::size_t>(r);
  }
  return true;
}

void write_all(const std::vector<std::uint8_t>& data) {
  const std::uint8_t* p = data.data();
  std::size_t n = data.size();
  while (n > 0) {
    const ssize_t w = write(g_out, p, n);
    if (w <= 0) std::_Exit(3);  // the certifier went away
    p += w, n -= static_cast<std::size_t>(w);
  }
}

// The floating-point state a kernel must leave as it found it.
struct FpState {
  int rounding = fegetround();
#if defined(__x86_64__) || defined(__i386__)
  unsigned mxcsr = _mm_getcsr();
#endif
  std::fenv_t env{};
  FpState() { fegetenv(&env); }

  // What differs in `now`, as a sentence part; empty when nothing does.
  std::string changes(const FpState& now) const {
    std::string s;
    if (now.rounding != rounding) s += "the rounding mode";
#if defined(__x86_64__) || defined(__i386__)
    constexpr unsigned kFtz = 1u << 15, kDaz = 1u << 6;
    if ((now.mxcsr & kFtz) != (mxcsr & kFtz)) s += std::string(s.empty() ? "" : ", ") + "flush-to-zero (FTZ)";
    if ((now.mxcsr & kDaz) != (mxcsr & kDaz)) s += std::string(s.empty() ? "" : ", ") + "denormals-are-zero (DAZ)";
#endif
    return s;
  }
  void restore() const {
    fesetenv(&env);
#if defined(__x86_64__) || defined(__i386__)
    _mm_setcsr(mxcsr);
#endif
  }
};

template <typename T>
int invoke(const TypedKernels<T>& k, const exec::Call& c, const std::vector<std::vector<std::uint8_t>>& in, T* y) {
  const auto [a, b, d3, d4] = c.size;
  auto x = [&](std::size_t i) { return reinterpret_cast<const T*>(in[i].data()); };
  switch (c.function) {
    case Function::softmax: return k.softmax(x(0), y, a, b);
    case Function::log_softmax: return k.log_softmax(x(0), y, a, b);
    case Function::logsumexp: return k.logsumexp(x(0), y, a, b);
    case Function::softmax_temperature: return k.softmax_temperature(x(0), y, a, b, static_cast<T>(c.t));
    case Function::sigmoid: return k.sigmoid(x(0), y, a);
    case Function::cross_entropy: return k.cross_entropy(x(0), reinterpret_cast<const std::int64_t*>(in[1].data()), y, a, b);
    case Function::cross_entropy_grad:
      return k.cross_entropy_grad(x(0), reinterpret_cast<const std::int64_t*>(in[1].data()), y, a, b);
    case Function::softmax_backward: return k.softmax_backward(x(0), x(1), y, a, b);
    case Function::masked_softmax: return k.masked_softmax(x(0), in[1].data(), y, a, b);
    case Function::attention: return k.attention(x(0), x(1), x(2), y, a, b, d3, d4, c.causal ? 1 : 0);
  }
  return SOFTCERT_ERR_UNSUPPORTED;
}

// An f16/bf16 kernel (softmax or log_softmax; exec::shape_of admits no other).
int invoke_reduced(const ReducedKernels& k, const exec::Call& c, const std::vector<std::vector<std::uint8_t>>& in,
                   std::uint16_t* y) {
  const auto* x = reinterpret_cast<const std::uint16_t*>(in[0].data());
  const auto kernel = c.function == Function::softmax ? k.softmax : k.log_softmax;
  return kernel(x, y, c.size[0], c.size[1]);
}

// Runs one call, with outputs of E (float, double, or uint16_t bit patterns), with guard zones,
// poison, an input copy and the FP state around it; appends what went wrong to `note`.
template <typename E, typename Invoke>
int guarded_call(Invoke&& invoke, std::vector<std::vector<std::uint8_t>>& in,
                 std::uint64_t outputs, std::vector<std::uint8_t>& result, std::string& note) {
  using Bits = properties::PoisonBits<sizeof(E)>;
  const Bits poison = properties::kPoison<sizeof(E)>;
  constexpr std::size_t kGuard = 64;
  std::vector<Bits> buffer(kGuard + outputs + kGuard, poison);
  const std::vector<std::vector<std::uint8_t>> before = in;
  const FpState fp_before;
  int status = SOFTCERT_ERR_UNSUPPORTED;
  try {
    status = invoke(reinterpret_cast<E*>(buffer.data() + kGuard));
  } catch (const std::exception& e) {
    note += std::string("threw a C++ exception across the C ABI (") + e.what() + "); ";
  } catch (...) {
    note += "threw a C++ exception across the C ABI; ";
  }
  const std::string fp = fp_before.changes(FpState{});
  if (!fp.empty()) {
    note += "left the floating-point environment changed: " + fp + "; ";
    fp_before.restore();
  }
  for (std::size_t i = 0; i < kGuard; ++i) {
    if (buffer[i] != poison) {
      note += "wrote before its output; ";
      break;
    }
  }
  for (std::size_t i = 0; i < kGuard; ++i) {
    if (buffer[kGuard + outputs + i] != poison) {
      note += "wrote after its output; ";
      break;
    }
  }
  if (in != before) note += "changed its input; ";
  if (status == SOFTCERT_OK) {
    for (std::uint64_t i = 0; i < outputs; ++i) {
      if (buffer[kGuard + i] == poison) {
        note += "returned OK without writing output[" + std::to_string(i) + "]; ";
        break;
      }
    }
  }
  if (!note.empty()) note.resize(note.size() - 2);
  result.resize(outputs * sizeof(E));
  std::memcpy(result.data(), buffer.data() + kGuard, result.size());
  return status;
}

void refuse(const std::string& why) {
  exec::Writer w;
  w.bytes(exec::kRefuse, 4);
  w.u32(static_cast<std::uint32_t>(why.size()));
  w.bytes(why.data(), why.size());
  write_all(w.data());
}

}  // namespace

int main(int argc, char** argv) {
  // The protocol keeps the original stdin/stdout; the plugin gets /dev/null for all three.
  g_in = dup(0), g_out = dup(1);
  const int null = open("/dev/null", O_RDWR);
  if (g_in < 0 || g_out < 0 || null < 0) return 3;
  dup2(null, 0), dup2(null, 1), dup2(null, 2);
  fcntl(g_in, F_SETFD, FD_CLOEXEC);
  fcntl(g_out, F_SETFD, FD_CLOEXEC);

  char tag[4];
  std::uint32_t version = 0;
  if (!read_exact(tag, 4) || std::memcmp(tag, exec::kHello, 4) != 0 || !read_exact(&version, 4)) return 3;
  if (version != exec::kVersion) {
    refuse("softcert-plugin-host speaks softcert-exec/" + std::to_string(exec::kVersion));
    return 2;
  }
  if (argc != 2) {
    refuse("usage: softcert-plugin-host PLUGIN.so");
    return 2;
  }
  std::optional<properties::Plugin> plugin;
  try {
    plugin.emplace(argv[1]);
  } catch (const properties::PluginError& e) {
    refuse(e.what());
    return 2;
  }
  const Implementation& impl = plugin->implementation();
  {
    exec::Writer w;
    w.bytes(exec::kHello, 4);
    w.u32(exec::kVersion);
    const std::string name = impl.name.substr(0, 256);
    w.u32(static_cast<std::uint32_t>(name.size()));
    w.bytes(name.data(), name.size());
    std::vector<std::uint8_t> offered;
    auto offer = [&](Function f, exec::DType d) {
      offered.push_back(static_cast<std::uint8_t>(f));
      offered.push_back(static_cast<std::uint8_t>(d));
    };
    for (Function f : kAllFunctions) {
      if (provides<float>(impl, f)) offer(f, exec::DType::f32);
      if (provides<double>(impl, f)) offer(f, exec::DType::f64);
    }
    for (exec::DType d : {exec::DType::f16, exec::DType::bf16}) {
      const ReducedKernels& k = d == exec::DType::f16 ? impl.f16 : impl.bf16;
      if (k.softmax) offer(Function::softmax, d);
      if (k.log_softmax) offer(Function::log_softmax, d);
    }
    w.u32(static_cast<std::uint32_t>(offered.size() / 2));
    w.bytes(offered.data(), offered.size());
    write_all(w.data());
  }

  for (;;) {
    if (!read_exact(tag, 4)) return 0;  // the certifier closed our input: done
    std::uint8_t header[exec::kCallHeaderBytes];
    if (std::memcmp(tag, exec::kCall, 4) != 0 || !read_exact(header, sizeof header)) return 3;
    const std::optional<exec::Call> call = exec::parse_call_header(header);
    const std::optional<exec::Shape> shape = call ? exec::shape_of(*call) : std::nullopt;
    if (!shape) return 3;
    std::vector<std::vector<std::uint8_t>> inputs;
    for (std::size_t i = 0; i < shape->inputs.size(); ++i) {
      inputs.emplace_back(shape->inputs[i] * shape->input_width[i]);
      if (!read_exact(inputs.back().data(), inputs.back().size())) return 3;
    }
    std::string note;
    std::vector<std::uint8_t> result;
    int status = SOFTCERT_ERR_UNSUPPORTED;
    switch (call->dtype) {
      case exec::DType::f32:
        if (provides<float>(impl, call->function)) {
          status = guarded_call<float>([&](float* y) { return invoke<float>(impl.f32, *call, inputs, y); },
                                       inputs, shape->outputs, result, note);
        }
        break;
      case exec::DType::f64:
        if (provides<double>(impl, call->function)) {
          status = guarded_call<double>([&](double* y) { return invoke<double>(impl.f64, *call, inputs, y); },
                                        inputs, shape->outputs, result, note);
        }
        break;
      case exec::DType::f16:
      case exec::DType::bf16: {
        const ReducedKernels& k = call->dtype == exec::DType::f16 ? impl.f16 : impl.bf16;
        if ((call->function == Function::softmax ? k.softmax : k.log_softmax) != nullptr) {
          status = guarded_call<std::uint16_t>([&](std::uint16_t* y) { return invoke_reduced(k, *call, inputs, y); },
                                               inputs, shape->outputs, result, note);
        }
        break;
      }
    }
    exec::Writer w;
    w.bytes(exec::kDone, 4);
    w.i32(status);
    w.u32(static_cast<std::uint32_t>(note.size()));
    w.bytes(note.data(), note.size());
    if (status == SOFTCERT_OK) w.bytes(result.data(), result.size());
    write_all(w.data());
  }
}

// The parent side of softcert-exec/1: child processes, per-call deadlines, and the forwarding
// kernels that make a child look like an Implementation (remote.hpp).
#include "remote.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "exec_protocol.hpp"
#include "softcert/properties/agreement.hpp"

extern char** environ;

namespace softcert::certify {
namespace {

using Clock = std::chrono::steady_clock;
using properties::KernelMisbehaved;

// Why talking to a child failed; turned into RemoteError or KernelMisbehaved by the caller.
struct ChildFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string signal_text(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? fmt::format("SIG{} ({})", abbrev, sig) : fmt::format("signal {}", sig);
}

class Child {
 public:
  explicit Child(const RemoteOptions& options) : timeout_(options.call_timeout) {
    int to_child[2], from_child[2];
    if (pipe2(to_child, O_CLOEXEC) != 0 || pipe2(from_child, O_CLOEXEC) != 0) {
      throw ChildFailure(fmt::format("cannot create pipes: {}", std::strerror(errno)));
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, to_child[0], 0);
    posix_spawn_file_actions_adddup2(&actions, from_child[1], 1);
    std::vector<char*> argv;
    for (const std::string& a : options.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const int rc = posix_spawnp(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(to_child[0]);
    close(from_child[1]);
    to_ = to_child[1], from_ = from_child[0];
    if (rc != 0) {
      pid_ = -1;
      throw ChildFailure(fmt::format("cannot run '{}': {}", options.argv[0], std::strerror(rc)));
    }
    fcntl(to_, F_SETFL, O_NONBLOCK);
    fcntl(from_, F_SETFL, O_NONBLOCK);
  }

  ~Child() {
    if (to_ >= 0) close(to_);  // EOF on its stdin: a well-behaved child exits
    if (from_ >= 0) close(from_);
    if (pid_ > 0 && !reap(std::chrono::milliseconds(200))) {
      kill(pid_, SIGKILL);
      reap(std::chrono::milliseconds(2000));
    }
  }

  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // Every read and write of one exchange shares one deadline.
  void start_exchange() { deadline_ = Clock::now() + timeout_; }

  void write_all(const std::uint8_t* p, std::size_t n) {
    while (n > 0) {
      wait_for(to_, POLLOUT);
      const ssize_t w = write(to_, p, n);
      if (w < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (w <= 0) throw ChildFailure(died("stopped reading its input"));
      p += w, n -= static_cast<std::size_t>(w);
    }
  }

  void read_exact(void* out, std::size_t n) {
    auto* p = static_cast<std::uint8_t*>(out);
    while (n > 0) {
      wait_for(from_, POLLIN);
      const ssize_t r = read(from_, p, n);
      if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (r <= 0) throw ChildFailure(died("closed its output"));
      p += r, n -= static_cast<std::size_t>(r);
    }
  }

  template <typename V>
  V read_value() {
    V v;
    read_exact(&v, sizeof v);
    return v;
  }

  // Kills the child after a protocol violation and says so.
  [[noreturn]] void protocol_violation(const std::string& what) {
    kill(pid_, SIGKILL);
    reap(std::chrono::milliseconds(2000));
    throw ChildFailure("broke the softcert-exec protocol: " + what);
  }

 private:
  void wait_for(int fd, short events) {
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now()).count();
      if (left <= 0) {
        kill(pid_, SIGKILL);
        reap(std::chrono::milliseconds(2000));
        throw ChildFailure(fmt::format("timed out: no answer within {:.3g} s (killed)", timeout_.count() / 1000.0));
      }
      pollfd p{fd, events, 0};
      const int r = poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
      if (r > 0) return;  // ready, or an error/hang-up the read or write reports
      if (r < 0 && errno != EINTR) throw ChildFailure(fmt::format("poll: {}", std::strerror(errno)));
    }
  }

  // The child's end after its pipe broke: a signal, an exit, or (still alive) what it did.
  std::string died(const std::string& what) {
    if (!reap(std::chrono::milliseconds(1000))) {
      kill(pid_, SIGKILL);
      reap(std::chrono::milliseconds(2000));
      return what + " (killed)";
    }
    if (WIFSIGNALED(status_)) return "crashed: killed by " + signal_text(WTERMSIG(status_));
    if (WIFEXITED(status_)) return fmt::format("exited with status {} before answering", WEXITSTATUS(status_));
    return what;
  }

  bool reap(std::chrono::milliseconds within) {
    if (pid_ <= 0) return true;
    const auto until = Clock::now() + within;
    for (;;) {
      const pid_t r = waitpid(pid_, &status_, WNOHANG);
      if (r == pid_ || (r < 0 && errno == ECHILD)) {
        pid_ = -1;
        return true;
      }
      if (Clock::now() >= until) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }

  pid_t pid_ = -1;
  int to_ = -1, from_ = -1;
  int status_ = 0;
  std::chrono::milliseconds timeout_;
  Clock::time_point deadline_{};
};

struct Offer {
  std::string name;
  std::vector<std::pair<Function, exec::DType>> kernels;
};

// HELLO and its answer. Throws RemoteError when the child refuses (FAIL), ChildFailure when it
// dies or answers nonsense.
Offer handshake(Child& child) {
  child.start_exchange();
  exec::Writer w;
  w.bytes(exec::kHello, 4);
  w.u32(exec::kVersion);
  child.write_all(w.data().data(), w.data().size());
  char tag[4];
  child.read_exact(tag, 4);
  auto read_text = [&](std::uint32_t limit) {
    const auto len = child.read_value<std::uint32_t>();
    if (len > limit) child.protocol_violation(fmt::format("a text of {} bytes", len));
    std::string s(len, '\0');
    child.read_exact(s.data(), len);
    return s;
  };
  if (std::memcmp(tag, exec::kRefuse, 4) == 0) throw RemoteError(read_text(1 << 16));
  if (std::memcmp(tag, exec::kHello, 4) != 0) child.protocol_violation("no SCX1 or FAIL answer to HELLO");
  const auto version = child.read_value<std::uint32_t>();
  if (version != exec::kVersion) {
    throw RemoteError(fmt::format("the command speaks softcert-exec/{}, softcert speaks /{}", version, exec::kVersion));
  }
  Offer offer;
  offer.name = read_text(256);
  const auto count = child.read_value<std::uint32_t>();
  if (count > 64) child.protocol_violation(fmt::format("{} kernels offered", count));
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint8_t fd[2];
    child.read_exact(fd, 2);
    if (fd[0] >= std::size(kAllFunctions) || fd[1] >= exec::kDTypes) child.protocol_violation("an unknown kernel offered");
    if (fd[1] >= 2 && fd[0] != static_cast<std::uint8_t>(Function::softmax) &&
        fd[0] != static_cast<std::uint8_t>(Function::log_softmax)) {
      child.protocol_violation("an f16/bf16 kernel offered that the ABI does not have");
    }
    offer.kernels.emplace_back(static_cast<Function>(fd[0]), static_cast<exec::DType>(fd[1]));
  }
  return offer;
}

// The one remote target of this process, and each thread's child for it.
struct Target {
  RemoteOptions options;
  Implementation implementation;
  std::uint64_t generation = 0;
};
std::mutex g_mutex;
std::unique_ptr<Target> g_target;
std::atomic<std::uint64_t> g_generation{0};
std::atomic<std::size_t> g_children{0};
std::string g_fp_changes[exec::kDTypes];  // per dtype, under g_mutex
thread_local std::unique_ptr<Child> t_child;
thread_local std::uint64_t t_generation = 0;

Child& thread_child() {
  if (!t_child || t_generation != g_generation.load()) {
    t_child.reset();
    RemoteOptions options;
    {
      std::lock_guard lock(g_mutex);
      options = g_target->options;
    }
    auto child = std::make_unique<Child>(options);
    ++g_children;
    try {
      handshake(*child);
    } catch (const RemoteError& e) {  // it accepted before: refusing now is misbehaving
      throw ChildFailure(std::string("refused to start again: ") + e.what());
    }
    t_child = std::move(child);
    t_generation = g_generation.load();
  }
  return *t_child;
}

// Timeouts in a row per kernel (function × dtype): after kMaxTimeouts a kernel is no longer
// called, so that a plugin that hangs costs minutes, not a timeout per call of the battery.
constexpr int kMaxTimeouts = 3;
std::atomic<int> g_timeouts[std::size(kAllFunctions)][exec::kDTypes];

// One kernel call through the thread's child: the ABI status, `out` filled when it is OK.
// Throws KernelMisbehaved when the child failed (and drops it) or reported a misbehaving kernel.
int forward(const exec::Call& call, std::initializer_list<const void*> inputs, void* out) {
  const std::optional<exec::Shape> shape = exec::shape_of(call);
  if (!shape) return SOFTCERT_ERR_SIZE;  // larger than the protocol carries
  std::size_t k = 0;
  for (const void* p : inputs) {
    if (p == nullptr && shape->inputs[k] > 0) return SOFTCERT_ERR_NULL;
    ++k;
  }
  if (out == nullptr && shape->outputs > 0) return SOFTCERT_ERR_NULL;
  const std::string what = fmt::format("{} {}", function_name(call.function), exec::dtype_name(call.dtype));
  std::atomic<int>& timeouts = g_timeouts[static_cast<int>(call.function)][static_cast<int>(call.dtype)];
  if (timeouts.load() >= kMaxTimeouts) {
    throw KernelMisbehaved(fmt::format("not called: it timed out {} times in a row ({})", kMaxTimeouts, what));
  }
  try {
    Child& child = thread_child();
    child.start_exchange();
    exec::Writer w;
    exec::write_call_header(w, call);
    k = 0;
    for (const void* p : inputs) {
      w.bytes(p, shape->inputs[k] * shape->input_width[k]);
      ++k;
    }
    child.write_all(w.data().data(), w.data().size());
    char tag[4];
    child.read_exact(tag, 4);
    if (std::memcmp(tag, exec::kDone, 4) != 0) child.protocol_violation("no DONE answer to CALL");
    const auto status = child.read_value<std::int32_t>();
    const auto note_len = child.read_value<std::uint32_t>();
    if (note_len > (1u << 16)) child.protocol_violation(fmt::format("a note of {} bytes", note_len));
    std::string note(note_len, '\0');
    child.read_exact(note.data(), note_len);
    if (status == SOFTCERT_OK) child.read_exact(out, shape->outputs * exec::width_of(call.dtype));
    timeouts = 0;
    if (note.find("floating-point environment") != std::string::npos) {
      std::lock_guard lock(g_mutex);
      std::string& first = g_fp_changes[static_cast<std::size_t>(call.dtype)];
      if (first.empty()) first = note + " (" + what + ")";
    }
    if (!note.empty()) throw KernelMisbehaved(note + " (" + what + ")");
    return status;
  } catch (const ChildFailure& e) {
    t_child.reset();
    if (std::string_view(e.what()).starts_with("timed out")) ++timeouts;
    throw KernelMisbehaved(std::string(e.what()) + " (" + what + ")");
  }
}

template <typename T>
exec::Call call_of(Function f, std::uint64_t a, std::uint64_t b, std::uint64_t c = 0, std::uint64_t d = 0) {
  exec::Call call;
  call.function = f;
  call.dtype = exec::dtype_of<T>();
  call.size[0] = a, call.size[1] = b, call.size[2] = c, call.size[3] = d;
  return call;
}

// Kernels with the ABI's signatures that forward to the thread's child.
template <typename T>
struct Forwarding {
  static int softmax(const T* x, T* y, size_t rows, size_t n) {
    return forward(call_of<T>(Function::softmax, rows, n), {x}, y);
  }
  static int log_softmax(const T* x, T* y, size_t rows, size_t n) {
    return forward(call_of<T>(Function::log_softmax, rows, n), {x}, y);
  }
  static int logsumexp(const T* x, T* out, size_t rows, size_t n) {
    return forward(call_of<T>(Function::logsumexp, rows, n), {x}, out);
  }
  static int softmax_temperature(const T* x, T* y, size_t rows, size_t n, T t) {
    exec::Call call = call_of<T>(Function::softmax_temperature, rows, n);
    call.t = static_cast<double>(t);
    return forward(call, {x}, y);
  }
  static int sigmoid(const T* x, T* y, size_t count) { return forward(call_of<T>(Function::sigmoid, count, 0), {x}, y); }
  static int cross_entropy(const T* z, const int64_t* labels, T* loss, size_t rows, size_t n) {
    return forward(call_of<T>(Function::cross_entropy, rows, n), {z, labels}, loss);
  }
  static int cross_entropy_grad(const T* z, const int64_t* labels, T* grad, size_t rows, size_t n) {
    return forward(call_of<T>(Function::cross_entropy_grad, rows, n), {z, labels}, grad);
  }
  static int softmax_backward(const T* y, const T* dy, T* dx, size_t rows, size_t n) {
    return forward(call_of<T>(Function::softmax_backward, rows, n), {y, dy}, dx);
  }
  static int masked_softmax(const T* x, const uint8_t* keep, T* y, size_t rows, size_t n) {
    return forward(call_of<T>(Function::masked_softmax, rows, n), {x, keep}, y);
  }
  static int attention(const T* q, const T* k, const T* v, T* out, size_t lq, size_t lk, size_t d, size_t dv, int causal) {
    exec::Call call = call_of<T>(Function::attention, lq, lk, d, dv);
    call.causal = causal != 0;
    return forward(call, {q, k, v}, out);
  }
};

// The f16/bf16 kernels (bit patterns), forwarded the same way.
template <exec::DType D>
struct ReducedForwarding {
  static int softmax(const uint16_t* x, uint16_t* y, size_t rows, size_t n) { return call(Function::softmax, x, y, rows, n); }
  static int log_softmax(const uint16_t* x, uint16_t* y, size_t rows, size_t n) {
    return call(Function::log_softmax, x, y, rows, n);
  }
  static int call(Function f, const uint16_t* x, uint16_t* y, size_t rows, size_t n) {
    exec::Call c;
    c.function = f;
    c.dtype = D;
    c.size[0] = rows, c.size[1] = n;
    return forward(c, {x}, y);
  }
};

template <exec::DType D>
void offer_reduced_kernel(ReducedKernels& k, Function f) {
  if (f == Function::softmax) k.softmax = &ReducedForwarding<D>::softmax;
  if (f == Function::log_softmax) k.log_softmax = &ReducedForwarding<D>::log_softmax;
}

template <typename T>
void offer_kernel(TypedKernels<T>& k, Function f) {
  using F = Forwarding<T>;
  switch (f) {
    case Function::softmax: k.softmax = &F::softmax; break;
    case Function::log_softmax: k.log_softmax = &F::log_softmax; break;
    case Function::logsumexp: k.logsumexp = &F::logsumexp; break;
    case Function::softmax_temperature: k.softmax_temperature = &F::softmax_temperature; break;
    case Function::sigmoid: k.sigmoid = &F::sigmoid; break;
    case Function::cross_entropy: k.cross_entropy = &F::cross_entropy; break;
    case Function::cross_entropy_grad: k.cross_entropy_grad = &F::cross_entropy_grad; break;
    case Function::softmax_backward: k.softmax_backward = &F::softmax_backward; break;
    case Function::masked_softmax: k.masked_softmax = &F::masked_softmax; break;
    case Function::attention: k.attention = &F::attention; break;
  }
}

}  // namespace

const Implementation& connect_remote(const RemoteOptions& options) {
  if (options.argv.empty()) throw RemoteError("no command to run");
  // A child that dies while we write must not kill the certifier with SIGPIPE.
  signal(SIGPIPE, SIG_IGN);
  Offer offer;
  try {
    Child child(options);
    ++g_children;
    offer = handshake(child);
  } catch (const ChildFailure& e) {
    throw RemoteError(fmt::format("no softcert-exec session: {}", e.what()));
  }
  auto target = std::make_unique<Target>();
  target->options = options;
  target->implementation.name = offer.name;
  for (const auto& [f, dtype] : offer.kernels) {
    Implementation& impl = target->implementation;
    switch (dtype) {
      case exec::DType::f32: offer_kernel(impl.f32, f); break;
      case exec::DType::f64: offer_kernel(impl.f64, f); break;
      case exec::DType::f16: offer_reduced_kernel<exec::DType::f16>(impl.f16, f); break;
      case exec::DType::bf16: offer_reduced_kernel<exec::DType::bf16>(impl.bf16, f); break;
    }
  }
  for (auto& per_function : g_timeouts) for (auto& t : per_function) t = 0;
  std::lock_guard lock(g_mutex);
  g_target = std::move(target);
  ++g_generation;
  return g_target->implementation;
}

std::vector<std::string> plugin_host_command(const std::string& plugin_path) {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  const std::filesystem::path host = ec ? std::filesystem::path("softcert-plugin-host") : self.parent_path() / "softcert-plugin-host";
  return {host.string(), std::filesystem::absolute(plugin_path).string()};
}

std::size_t remote_children_started() { return g_children.load(); }

std::string remote_fp_environment_change(const std::string& dtype) {
  std::lock_guard lock(g_mutex);
  for (std::size_t d = 0; d < exec::kDTypes; ++d) {
    if (exec::dtype_name(static_cast<exec::DType>(d)) == dtype) return g_fp_changes[d];
  }
  return {};
}

}  // namespace softcert::certify

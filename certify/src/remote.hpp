// An implementation in another process, reached over softcert-exec/1 (exec_protocol.hpp): a
// `--exec` command, or the isolated plugin host running a `--plugin` library. The certifier
// gets an ordinary Implementation whose kernels forward each call to a child process; a child
// that crashes, hangs, exits or breaks the protocol during a call makes that call throw
// properties::KernelMisbehaved with the reason, and the next call starts a fresh child, so the
// run goes on. Each thread has its own child (the battery's --jobs).
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "softcert/implementation.hpp"

namespace softcert::certify {

// The run cannot be done (exit 2): the command cannot start, or refuses at the handshake
// (a plugin that cannot be loaded, lacks softcert_abi_version, has another version).
class RemoteError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RemoteOptions {
  std::vector<std::string> argv;                 // the child's command line
  std::chrono::milliseconds call_timeout{10000};  // per call, handshake included
};

// Starts one child for the handshake and returns the Implementation it offers (its name and
// exported kernels). One remote target per process: a later call replaces the earlier one.
// Throws RemoteError.
const Implementation& connect_remote(const RemoteOptions& options);

// The argv that runs the isolated plugin host on `plugin_path` (softcert-plugin-host, found
// next to the running softcert binary).
std::vector<std::string> plugin_host_command(const std::string& plugin_path);

// Children started so far by this process (a fresh one after each failed call).
std::size_t remote_children_started();

// The first report, per dtype ("f32", "f64", "f16", "bf16"), of a kernel that left the floating-point
// environment changed (rounding mode, FTZ/DAZ); empty when none did. The certifier turns it into
// a check of its own: such a plugin silently changes every later calculation of its caller.
std::string remote_fp_environment_change(const std::string& dtype);

}  // namespace softcert::certify

// Loading a plugin (DESIGN.md §3) as an Implementation, in this process. The certifier's isolated
// host runs it in a child process instead; tests and the property catalogue use it directly.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include "softcert/implementation.hpp"

namespace softcert::properties {

// Why a plugin could not be used; the certifier maps it to exit status 2.
class PluginError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Plugin {
 public:
  // dlopen()s `path` and reads softcert_abi_version, softcert_name and every ABI kernel it
  // exports. Throws PluginError when the library cannot be loaded, lacks softcert_abi_version,
  // or reports a version other than SOFTCERT_ABI_VERSION.
  explicit Plugin(const std::string& path);
  ~Plugin();
  Plugin(const Plugin&) = delete;
  Plugin& operator=(const Plugin&) = delete;

  const Implementation& implementation() const { return impl_; }

 private:
  void* handle_ = nullptr;
  Implementation impl_;
};

}  // namespace softcert::properties

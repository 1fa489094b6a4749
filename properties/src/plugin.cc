#include "softcert/properties/plugin.hpp"

#include <dlfcn.h>

#include <string>

namespace softcert::properties {
namespace {

template <typename Fn>
void bind(void* handle, const char* symbol, Fn& slot) {
  slot = reinterpret_cast<Fn>(dlsym(handle, symbol));
}

}  // namespace

Plugin::Plugin(const std::string& path) {
  // RTLD_LOCAL: two plugins exporting the same ABI names must not resolve to each other.
  handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle_ == nullptr) throw PluginError("cannot load plugin " + path + ": " + dlerror());
  using VersionFn = int (*)();
  using NameFn = const char* (*)();
  auto version = reinterpret_cast<VersionFn>(dlsym(handle_, "softcert_abi_version"));
  if (version == nullptr) {
    dlclose(handle_);
    throw PluginError("plugin " + path + " does not export softcert_abi_version");
  }
  if (const int v = version(); v != SOFTCERT_ABI_VERSION) {
    dlclose(handle_);
    throw PluginError("plugin " + path + " has ABI version " + std::to_string(v) + ", softcert speaks " +
                      std::to_string(SOFTCERT_ABI_VERSION));
  }
  auto name = reinterpret_cast<NameFn>(dlsym(handle_, "softcert_name"));
  const char* n = name ? name() : nullptr;
  impl_.name = n ? n : path;

#define SOFTCERT_BIND(T, suffix)                                                             \
  bind(handle_, "softcert_softmax_" #suffix, impl_.suffix.softmax);                         \
  bind(handle_, "softcert_log_softmax_" #suffix, impl_.suffix.log_softmax);                 \
  bind(handle_, "softcert_logsumexp_" #suffix, impl_.suffix.logsumexp);                     \
  bind(handle_, "softcert_softmax_temperature_" #suffix, impl_.suffix.softmax_temperature); \
  bind(handle_, "softcert_sigmoid_" #suffix, impl_.suffix.sigmoid);                         \
  bind(handle_, "softcert_cross_entropy_" #suffix, impl_.suffix.cross_entropy);             \
  bind(handle_, "softcert_cross_entropy_grad_" #suffix, impl_.suffix.cross_entropy_grad);   \
  bind(handle_, "softcert_softmax_backward_" #suffix, impl_.suffix.softmax_backward);       \
  bind(handle_, "softcert_masked_softmax_" #suffix, impl_.suffix.masked_softmax);           \
  bind(handle_, "softcert_attention_" #suffix, impl_.suffix.attention);
  SOFTCERT_BIND(float, f32)
  SOFTCERT_BIND(double, f64)
#undef SOFTCERT_BIND
  for (const FloatFormat* format : kReducedFormats) {
    ReducedKernels& k = impl_.reduced(*format);
    bind(handle_, ("softcert_softmax_" + std::string(format->name)).c_str(), k.softmax);
    bind(handle_, ("softcert_log_softmax_" + std::string(format->name)).c_str(), k.log_softmax);
  }
}

Plugin::~Plugin() {
  if (handle_ != nullptr) dlclose(handle_);
}

}  // namespace softcert::properties

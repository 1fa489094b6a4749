// lib's plugins: each loads, speaks ABI version 1, exports exactly the kernels its algorithm
// provides, and computes bit for bit what the C++ API computes.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "softcert/implementation.hpp"

namespace softcert::test {
namespace {

struct Library {
  void* handle;
  explicit Library(const std::string& path) : handle(dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL)) {}
  ~Library() { if (handle) dlclose(handle); }
  void* symbol(const std::string& name) const { return dlsym(handle, name.c_str()); }
};

TEST(Plugin, EveryAlgorithmLoadsAndExportsExactlyWhatItProvides) {
  for (const Implementation& impl : builtin_implementations()) {
    const std::string path = std::string(SOFTCERT_PLUGIN_DIR) + "/libsoftcert-" + impl.name + ".so";
    Library lib(path);
    ASSERT_NE(lib.handle, nullptr) << path << ": " << dlerror();
    auto version = reinterpret_cast<int (*)()>(lib.symbol("softcert_abi_version"));
    ASSERT_NE(version, nullptr);
    EXPECT_EQ(version(), SOFTCERT_ABI_VERSION);
    auto name = reinterpret_cast<const char* (*)()>(lib.symbol("softcert_name"));
    ASSERT_NE(name, nullptr);
    EXPECT_EQ(std::string(name()), "softcert-" + impl.name);
    for (Function f : kAllFunctions) {
      for (const char* type : {"f32", "f64"}) {
        const std::string symbol = "softcert_" + std::string(function_name(f)) + "_" + type;
        const bool provided = std::string(type) == "f32" ? provides<float>(impl, f) : provides<double>(impl, f);
        EXPECT_EQ(lib.symbol(symbol) != nullptr, provided) << path << " " << symbol;
      }
    }
    EXPECT_EQ(lib.symbol("softcert_softmax_f16"), nullptr) << "lib has no f16 kernels yet";
    // Nothing but the ABI leaks out: lib's C++ symbols stay hidden.
    EXPECT_EQ(lib.symbol("_ZN8softcert23builtin_implementationsEv"), nullptr);

    const std::vector<float> x{3, 1, -2, 0, 1e4f, 1e4f + 1, -1e4f, 0.5f};
    std::vector<float> from_plugin(x.size()), from_api(x.size());
    auto softmax = reinterpret_cast<int (*)(const float*, float*, size_t, size_t)>(lib.symbol("softcert_softmax_f32"));
    ASSERT_NE(softmax, nullptr);
    ASSERT_EQ(softmax(x.data(), from_plugin.data(), 2, 4), SOFTCERT_OK);
    ASSERT_EQ(impl.f32.softmax(x.data(), from_api.data(), 2, 4), SOFTCERT_OK);
    EXPECT_EQ(std::memcmp(from_plugin.data(), from_api.data(), x.size() * sizeof(float)), 0) << impl.name;
    EXPECT_EQ(softmax(x.data(), from_plugin.data(), 0, 4), SOFTCERT_ERR_EMPTY);
  }
}

}  // namespace
}  // namespace softcert::test

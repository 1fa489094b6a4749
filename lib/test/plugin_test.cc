// lib's plugins: each loads, speaks ABI version 1, names itself, exports exactly the kernels its
// algorithm provides, and computes bit for bit what the C++ API computes, for every kernel.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "abi_kernels.hpp"
#include "kernel_calls.hpp"
#include "softcert/implementation.hpp"

namespace softcert::test {
namespace {

struct Library {
  void* handle;
  explicit Library(const std::string& path) : handle(dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL)) {}
  ~Library() { if (handle) dlclose(handle); }
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;
  void* symbol(const std::string& name) const { return dlsym(handle, name.c_str()); }
};

std::string plugin_path(const Implementation& impl) {
  return std::string(SOFTCERT_PLUGIN_DIR) + "/libsoftcert-" + impl.name + ".so";
}

// The kernels a plugin exports, looked up by their ABI names (null where not exported).
template <typename T>
TypedKernels<T> exported(const Library& lib) {
  TypedKernels<T> k;
  constexpr const char* dtype = sizeof(T) == sizeof(float) ? "f32" : "f64";
#define SOFTCERT_LOOK_UP(name, unused, params, args) \
  k.name = reinterpret_cast<decltype(k.name)>(lib.symbol("softcert_" #name "_" + std::string(dtype)));
  SOFTCERT_ABI_KERNELS(SOFTCERT_LOOK_UP, T, unused)
#undef SOFTCERT_LOOK_UP
  return k;
}

TEST(Plugin, EveryAlgorithmLoadsAndExportsExactlyWhatItProvides) {
  for (const Implementation& impl : builtin_implementations()) {
    const std::string path = plugin_path(impl);
    Library lib(path);
    ASSERT_NE(lib.handle, nullptr) << path << ": " << dlerror();
    auto version = reinterpret_cast<int (*)()>(lib.symbol("softcert_abi_version"));
    ASSERT_NE(version, nullptr);
    EXPECT_EQ(version(), SOFTCERT_ABI_VERSION);
    auto name = reinterpret_cast<const char* (*)()>(lib.symbol("softcert_name"));
    ASSERT_NE(name, nullptr);
    EXPECT_EQ(std::string(name()), "softcert-" + impl.name);
    // By the ABI's own names, independently of abi_kernels.hpp.
    for (Function f : kAllFunctions) {
      for (const char* type : {"f32", "f64"}) {
        const std::string symbol = "softcert_" + std::string(function_name(f)) + "_" + type;
        const bool provided = std::string(type) == "f32" ? provides<float>(impl, f) : provides<double>(impl, f);
        EXPECT_EQ(lib.symbol(symbol) != nullptr, provided) << path << " " << symbol;
      }
    }
    // Every algorithm has the reduced-precision softmax and log_softmax.
    for (const char* reduced : {"softcert_softmax_f16", "softcert_softmax_bf16", "softcert_log_softmax_f16",
                                "softcert_log_softmax_bf16"}) {
      EXPECT_NE(lib.symbol(reduced), nullptr) << path << " " << reduced;
    }
    EXPECT_NE(impl.f16.softmax, nullptr);
    EXPECT_NE(impl.bf16.log_softmax, nullptr);
    // Nothing but the ABI leaks out: lib's C++ symbols stay hidden.
    EXPECT_EQ(lib.symbol("_ZN8softcert23builtin_implementationsEv"), nullptr);
    EXPECT_EQ(lib.symbol("_ZN8softcert12find_builtinESt17basic_string_viewIcSt11char_traitsIcEE"), nullptr);
  }
  EXPECT_EQ(find_builtin("online")->f32.sigmoid, nullptr) << "online is the softmax family only";
}

template <typename T>
class PluginBits : public ::testing::Test {};
using Types = ::testing::Types<float, double>;
TYPED_TEST_SUITE(PluginBits, Types);

// Every exported kernel gives the C++ table's bits, on ordinary rows, special values and bad input.
TYPED_TEST(PluginBits, EveryKernelMatchesTheCppTable) {
  using T = TypeParam;
  std::mt19937_64 rng(11);
  std::normal_distribution<double> g(0, 6);
  const std::size_t rows = 4, n = 9;
  std::vector<T> x(rows * n), dy(rows * n);
  for (T& v : x) v = static_cast<T>(g(rng));
  for (T& v : dy) v = static_cast<T>(g(rng));
  x[2] = -std::numeric_limits<T>::infinity();
  x[n + 3] = std::numeric_limits<T>::infinity();
  x[2 * n + 1] = std::numeric_limits<T>::quiet_NaN();
  std::vector<int64_t> labels{0, 3, 8, 5};
  std::vector<uint8_t> keep(rows * n);
  for (auto& k : keep) k = rng() % 3 != 0;
  for (const Implementation& impl : builtin_implementations()) {
    Library lib(plugin_path(impl));
    ASSERT_NE(lib.handle, nullptr) << dlerror();
    const TypedKernels<T> plugin = exported<T>(lib);
    const TypedKernels<T>& table = impl.kernels<T>();
    Implementation as_plugin{"plugin", {}, {}};
    if constexpr (sizeof(T) == sizeof(float)) as_plugin.f32 = plugin; else as_plugin.f64 = plugin;
    std::size_t compared = 0;
    for (Function f : kRowFunctions) {
      const bool from_plugin = provides<T>(as_plugin, f);
      ASSERT_EQ(from_plugin, provides<T>(impl, f)) << kernel_id<T>(impl, f);
      if (!from_plugin) continue;
      for (T t : {T(1), T(0.3), T(0)}) {  // t = 0: the error path too
        std::vector<T> a(rows * n, T(-7)), b(rows * n, T(-7));
        RowCall<T> c{x.data(), a.data(), rows, n, labels.data(), keep.data(), dy.data(), t};
        const int from_table = call(table, f, c);
        c.y = b.data();
        EXPECT_EQ(call(plugin, f, c), from_table) << kernel_id<T>(impl, f);
        EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(T)), 0) << kernel_id<T>(impl, f);
        ++compared;
      }
    }
    if (plugin.attention) {
      std::vector<T> a(12, T(-7)), b(12, T(-7));
      EXPECT_EQ(table.attention(x.data(), dy.data(), x.data() + 9, a.data(), 4, 3, 3, 3, 1), SOFTCERT_OK);
      EXPECT_EQ(plugin.attention(x.data(), dy.data(), x.data() + 9, b.data(), 4, 3, 3, 3, 1), SOFTCERT_OK);
      EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(T)), 0) << impl.name;
      ++compared;
    }
    EXPECT_GT(compared, 0u) << impl.name;
  }
}

// The f16/bf16 kernels too: the plugin's bits are the table's, on a row with special values.
TEST(PluginBits, ReducedKernelsMatchTheCppTable) {
  const std::vector<std::uint16_t> f16 = {0x3c00, 0xc500, 0x7c00, 0x0001, 0xfc00, 0x4900, 0x3555, 0x8000};
  const std::vector<std::uint16_t> bf16 = {0x3f80, 0xc0a0, 0x7f80, 0x0001, 0xff80, 0x4120, 0x3eab, 0x8000};
  for (const Implementation& impl : builtin_implementations()) {
    Library lib(plugin_path(impl));
    ASSERT_NE(lib.handle, nullptr) << dlerror();
    for (const FloatFormat* f : kReducedFormats) {
      const std::vector<std::uint16_t>& x = f == &kBinary16 ? f16 : bf16;
      for (const char* function : {"softmax", "log_softmax"}) {
        using Kernel = int (*)(const uint16_t*, uint16_t*, size_t, size_t);
        auto plugin = reinterpret_cast<Kernel>(lib.symbol("softcert_" + std::string(function) + "_" + std::string(f->name)));
        ASSERT_NE(plugin, nullptr) << impl.name << " " << function << " " << f->name;
        const ReducedKernels& k = impl.reduced(*f);
        const Kernel table = std::string(function) == "softmax" ? k.softmax : k.log_softmax;
        for (std::size_t rows : {std::size_t(1), std::size_t(2)}) {
          const std::size_t n = x.size() / rows;
          std::vector<std::uint16_t> a(x.size(), 0x1234), b(x.size(), 0x1234);
          EXPECT_EQ(table(x.data(), a.data(), rows, n), SOFTCERT_OK);
          EXPECT_EQ(plugin(x.data(), b.data(), rows, n), SOFTCERT_OK);
          EXPECT_EQ(a, b) << impl.name << " " << function << " " << f->name;
        }
        std::vector<std::uint16_t> untouched(2, 0x1234);
        EXPECT_EQ(plugin(x.data(), untouched.data(), 0, 2), SOFTCERT_ERR_EMPTY);
        EXPECT_EQ(plugin(nullptr, untouched.data(), 1, 2), SOFTCERT_ERR_NULL);
        EXPECT_EQ(untouched, std::vector<std::uint16_t>(2, 0x1234)) << "nothing written on error";
      }
    }
  }
}

}  // namespace
}  // namespace softcert::test

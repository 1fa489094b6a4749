// Fuzz target plugin: every property of the catalogue (rows, or attention when flags bit 2 is
// set) on the plugin named by $SOFTCERT_FUZZ_PLUGIN (a .so, DESIGN.md §3), compatible profile; lib's
// "accurate" builtin when the variable is unset. A plugin that cannot be loaded stops the run.
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "../decode.hpp"
#include "softcert/properties/plugin.hpp"

namespace {

const softcert::Implementation& target() {
  static const softcert::Implementation* impl = [] {
    const char* path = std::getenv("SOFTCERT_FUZZ_PLUGIN");
    if (path == nullptr || *path == '\0') return softcert::find_builtin("accurate");
    try {
      static std::unique_ptr<softcert::properties::Plugin> plugin = std::make_unique<softcert::properties::Plugin>(path);
      return &plugin->implementation();
    } catch (const softcert::properties::PluginError& e) {
      std::fprintf(stderr, "softcert fuzz: cannot load plugin %s: %s\n", path, e.what());
      std::exit(2);
    }
  }();
  return *impl;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  target();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace softcert::fuzz;
  const Layout layout = attention_flag(data, size) ? Layout{.attention = true} : Layout{.dy = true, .keep = true};
  return dispatch(data, size, layout, [](const auto& in) {
    check_properties(target(), in, Profile::compatible, {""});
  });
}

// softcert_bench: lib's algorithms, the third-party peers and the memory-bound limits, in one
// binary and one run (bench/README.md). Context added to the JSON output: the CPU, its AVX-512
// flags, the thread count of the `threads` case, every peer's version and chosen kernel.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "harness.hpp"

namespace {

void note_cpu() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string model = "unknown";
  std::set<std::string> avx512;
  for (std::string line; std::getline(cpuinfo, line);) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = line.substr(0, line.find_last_not_of(" \t", colon - 1) + 1);
    const std::string value = colon + 2 <= line.size() ? line.substr(colon + 2) : "";
    if (key == "model name") model = value;
    if (key == "flags") {
      std::istringstream flags(value);
      for (std::string flag; flags >> flag;)
        if (flag.rfind("avx512", 0) == 0) avx512.insert(flag);
    }
  }
  std::string flags;
  for (const std::string& f : avx512) flags += (flags.empty() ? "" : " ") + f;
  softcert::bench::note("cpu_model", model);
  softcert::bench::note("cpu_avx512", flags.empty() ? "none" : flags);
  softcert::bench::note("threads_case_threads", std::to_string(softcert::bench::thread_count()));
  softcert::bench::note("batch_elements", std::to_string(softcert::bench::kBatchElements));
  softcert::bench::note("cache_elements", std::to_string(softcert::bench::kCacheElements));
}

// SOFTCERT_BENCH_ONLY=memory,lib,onednn,...: only those parts are registered (and set up); unset,
// all of them. bench/run.sh's second run (ATEN_CPU_CAPABILITY=avx512) uses memory,libtorch.
bool wanted(const std::string& part) {
  const char* only = std::getenv("SOFTCERT_BENCH_ONLY");
  if (only == nullptr || *only == '\0') return true;
  std::istringstream parts(only);
  for (std::string p; std::getline(parts, p, ',');)
    if (p == part) return true;
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  using namespace softcert::bench;
  note_cpu();
  std::string peers;
  if (wanted("memory")) register_memory();
  if (wanted("lib")) register_lib();
#ifdef SOFTCERT_BENCH_ONEDNN
  if (wanted("onednn")) register_onednn();
  peers += " onednn";
#endif
#ifdef SOFTCERT_BENCH_XNNPACK
  if (wanted("xnnpack")) register_xnnpack();
  peers += " xnnpack";
#endif
#ifdef SOFTCERT_BENCH_LIBTORCH
  if (wanted("libtorch")) register_libtorch();
  peers += " libtorch";
#endif
#ifdef SOFTCERT_BENCH_OPENCV
  if (wanted("opencv")) register_opencv();
  peers += " opencv";
#endif
  note("peers_built", peers.empty() ? "none" : peers.substr(1));
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

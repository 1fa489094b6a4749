// The deep battery's fuzz campaign: the libFuzzer plugin target (fuzz/targets/plugin.cc) run on
// a plugin for a fixed time, in a child process, from the committed seed corpus.
#pragma once

#include <string>

#include "battery.hpp"

namespace softcert::certify {

struct FuzzCampaign {
  std::string fuzzer;  // softcert_fuzz_plugin (the clang build: cmake --preset fuzz)
  std::string corpus;  // seed corpus folder (fuzz/corpus/plugin); only read
  std::string dict;    // fuzz/float.dict
  unsigned seconds = 60;
  unsigned jobs = 1;
};

// The check "fuzz/plugin_campaign" (function "kernel"): pass when the campaign ran its time
// without a failure; fail with the failing property, the input as hex floats and the crash file
// (rerun it with `SOFTCERT_FUZZ_PLUGIN=PLUGIN softcert_fuzz_plugin FILE`); skipped when no
// fuzzer was built or the target is not a plugin.
Check run_fuzz_campaign(const std::string& plugin, const FuzzCampaign& campaign);

}  // namespace softcert::certify

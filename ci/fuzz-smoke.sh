#!/usr/bin/env bash
# The fuzz smoke (issue 4): every libFuzzer target, built with clang 14 and ASan/UBSan (the fuzz
# preset), runs a fixed number of inputs from its seed corpus and its regression folder
# (ctest label fuzz-smoke). ci/test.sh calls it after the main suite; it needs the packages of
# ci/install-deps.sh (clang-14, libclang-rt-14-dev).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset fuzz
cmake --build --preset fuzz
ctest --preset fuzz
# The certifier's deep battery drives the plugin fuzzer built above (main build: ci/test.sh).
if [ -x build/default/certify/softcert ]; then
  bash certify/test/deep_battery.sh build/default/certify/softcert build/fuzz/fuzz/softcert_fuzz_plugin \
    build/default/plugins/broken/libbroken-fmax_drops_nan.so build/default/plugins/libsoftcert-accurate.so
fi

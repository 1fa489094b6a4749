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

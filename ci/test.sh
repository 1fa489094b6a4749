#!/usr/bin/env bash
# Command 2 of the README: install what is missing, build, run the whole test suite (ctest),
# then the fuzz smoke (ci/fuzz-smoke.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/install-deps.sh
cmake --preset default
cmake --build --preset default
ctest --preset default
bash ci/fuzz-smoke.sh

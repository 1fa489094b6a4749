#!/usr/bin/env bash
# Command 1 of the README: install what is missing, build, and certify every lib algorithm
# against the oracle, printing each certificate. Extra arguments go to `softcert certify`
# (for example --battery smoke, --functions softmax, --cases 100000).
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/install-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default --target softcert
status=0
for algorithm in $(build/default/certify/softcert list | awk 'NR > 1 {print $1}'); do
  build/default/certify/softcert certify --builtin "$algorithm" "$@" || status=$?
  echo
done
exit "$status"

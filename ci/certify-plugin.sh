#!/usr/bin/env bash
# Certifies a plugin (DESIGN.md §3) with a freshly built softcert and writes every report:
#   ci/certify-plugin.sh PLUGIN.so [OUT_DIR] [softcert certify options...]
# OUT_DIR (default softcert-report) receives report.json, junit.xml and certificate.html. The
# exit status is softcert's: 0 pass, 1 a check failed, 2 the run could not be done. This is what
# the composite action ci/certify-action runs in another project's CI.
set -euo pipefail
plugin=${1:?usage: certify-plugin.sh PLUGIN.so [OUT_DIR] [certify options...]}
out=${2:-softcert-report}
shift $(( $# >= 2 ? 2 : 1 ))
plugin=$(realpath "$plugin")
mkdir -p "$out"
out=$(realpath "$out")
cd "$(dirname "$0")/.."
bash ci/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target softcert softcert-plugin-host
build/release/certify/softcert certify --plugin "$plugin" --json "$out/report.json" --junit "$out/junit.xml" \
  --html "$out/certificate.html" "$@"

#!/usr/bin/env bash
# The one command of issue 6: certify every third-party implementation softcert has an adapter for
# and regenerate docs/certifications.md.
#
#   bash ci/certify-third-party.sh [--battery standard|smoke] [--build-dir DIR] [--out DIR] [--doc FILE]
#
# 1. Installs what is missing: Debian packages (ci/install-deps.sh, plus python3-torch, Debian's
#    PyTorch 1.13.1: the same build as libtorch-dev that the C++ adapter links, without the
#    several GB of CUDA wheels PyPI's torch pulls in), then the virtual environment
#    build/third-party-venv (adapters/python/setup-venv.sh: Debian's numpy/scipy/torch seen through
#    --system-site-packages, jax, onnx, onnxruntime and tensorflow-cpu from PyPI).
# 2. Builds the release preset (softcert, the plugin host and every C++ adapter CMake finds a
#    library for) in DIR (default build/release).
# 3. Certifies with the battery (default standard) every DIR/adapters/libsoftcert-*.so through
#    --plugin and every adapters/python/*_adapter.py through --exec, writing
#    build/certifications/<name>.{json,html,log}; an adapter that cannot run here (its framework
#    is missing, softcert exits 2) leaves <name>.unavailable with the reason instead.
# 4. Regenerates docs/certifications.md from those reports (adapters/tools/certifications.py).
#
# Exit status: 0 when every step ran (failed checks are findings, not errors of this command), nonzero
# when a step could not be done.
set -euo pipefail
cd "$(dirname "$0")/.."

battery=standard
build=build/release
out=build/certifications
doc=docs/certifications.md
while [ $# -gt 0 ]; do
  case $1 in
    --battery) battery=$2; shift 2 ;;
    --build-dir) build=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --doc) doc=$2; shift 2 ;;
    *) echo "usage: $0 [--battery standard|smoke] [--build-dir DIR] [--out DIR] [--doc FILE]" >&2; exit 2 ;;
  esac
done
venv=build/third-party-venv

# 1. Dependencies.
bash ci/install-deps.sh
if ! dpkg-query -W -f='${Status}' python3-torch 2>/dev/null | grep -q 'install ok installed'; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "certify-third-party: installing python3-torch"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-torch
fi
bash adapters/python/setup-venv.sh "$venv"

# 2. Build.
cmake --preset release -B "$build" >/dev/null
cmake --build "$build" --target softcert softcert-plugin-host
# Every adapter that builds is certified; one that does not (a library too old, a header missing)
# is reported and left out rather than stopping the others.
cmake --build "$build" -- -k 0 || echo "certify-third-party: some targets did not build (above); certifying the others" >&2
softcert=$build/certify/softcert

# 3. Certify every adapter.
mkdir -p "$out"
rm -f "$out"/*.json "$out"/*.html "$out"/*.log "$out"/*.unavailable
certify() {  # name, then the target options
  local name=$1; shift
  echo "certify-third-party: $name ($battery)"
  local status=0
  "$softcert" certify "$@" --battery "$battery" --json "$out/$name.json" --html "$out/$name.html" \
    >"$out/$name.log" 2>&1 || status=$?
  if [ "$status" -eq 2 ]; then
    # The run could not be done here (no framework, no GPU...): say why, certify the others.
    tail -n 5 "$out/$name.log" > "$out/$name.unavailable"
    rm -f "$out/$name.json" "$out/$name.html"
    echo "certify-third-party: $name not certified here: $(tail -n 1 "$out/$name.log")"
  else
    echo "certify-third-party: $name: $(grep -E '^verdict' "$out/$name.log" | tail -n 1 || true)"
  fi
}
for plugin in "$build"/adapters/libsoftcert-*.so; do
  [ -e "$plugin" ] || continue
  name=$(basename "$plugin" .so); name=${name#libsoftcert-}
  certify "$name" --plugin "$plugin"
done
for adapter in adapters/python/*_adapter.py; do
  name=python-$(basename "$adapter" _adapter.py)
  # A Python framework may compile per shape (JAX's jit) on the first call of each: 120 s, not 10.
  certify "$name" --exec "$venv/bin/python3 $adapter" --call-timeout 120
done

# 4. The document.
"$venv/bin/python3" adapters/tools/certifications.py "$out" --softcert "$softcert" \
  --python "$venv/bin/python3" --output "$doc"
echo "certify-third-party: wrote $doc from $out"

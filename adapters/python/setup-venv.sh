#!/usr/bin/env bash
# Creates (or completes) the virtual environment the Python adapters run in:
#   adapters/python/setup-venv.sh [VENV_DIR]      (default build/third-party-venv)
# It is built on Debian's python3 with --system-site-packages, so Debian's numpy, scipy and torch
# (python3-numpy, python3-scipy, python3-torch: ci/certify-third-party.sh installs them with apt)
# are the ones the adapters use, and PyPI adds what Debian lacks: jax/jaxlib, onnx, onnxruntime
# and, where it installs, tensorflow-cpu. numpy is pinned to Debian's version (constraints file) so
# pip never replaces the numpy that Debian's scipy and torch were compiled against; pip then
# picks the newest release of each PyPI package that supports it. Idempotent: a package already
# satisfied is not downloaded again. Prints the resulting versions.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=${1:-build/third-party-venv}
system_python=/usr/bin/python3

[ -x "$venv/bin/python3" ] || "$system_python" -m venv --system-site-packages "$venv"
pip=("$venv/bin/python3" -m pip --disable-pip-version-check --no-input -q)

constraints=$venv/constraints.txt
numpy_version=$("$system_python" -c 'import numpy; print(numpy.__version__)')
# scipy too: jax and tensorflow would otherwise pull a newer scipy built for another numpy.
scipy_version=$("$system_python" -c 'import scipy; print(scipy.__version__)')
# onnx 1.18 and later need ml_dtypes >= 0.5 (its float4 types) while tensorflow 2.17, the last
# release for numpy < 1.26, wants ml_dtypes < 0.5; pip's metadata does not say so for onnx 1.19
# (it then fails at import), hence the pin.
printf 'numpy==%s\nscipy==%s\nonnx<1.18\n' "$numpy_version" "$scipy_version" > "$constraints"

# jax, onnx and onnxruntime are required; tensorflow-cpu is wanted too, resolved in the same pip
# call so that every package's pins (protobuf, ml_dtypes) hold together. Where that cannot be
# resolved, the others are installed without it, and its adapter then declines at the handshake.
if ! "${pip[@]}" install -c "$constraints" jax jaxlib onnx onnxruntime tensorflow-cpu; then
  echo "setup-venv: tensorflow-cpu does not install with the others; continuing without it" >&2
  "${pip[@]}" install -c "$constraints" jax jaxlib onnx onnxruntime
fi
"${pip[@]}" check || echo "setup-venv: pip check reports the conflicts above" >&2

"$venv/bin/python3" - <<'PY'
import importlib
for name in ("numpy", "scipy", "torch", "jax", "jaxlib", "onnx", "onnxruntime", "tensorflow"):
    try:
        module = importlib.import_module(name)
        print(f"setup-venv: {name} {module.__version__} ({module.__file__.split('/site-packages/')[0]})")
    except Exception as e:  # noqa: BLE001 - any import failure means "not available"
        print(f"setup-venv: {name} not available ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})")
PY

#!/usr/bin/env bash
# Installs every build and test dependency of softcert from Debian's packages.
# Idempotent: packages already present are left alone, and apt-get runs only when one is missing.
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config
  libgtest-dev libgmock-dev librapidcheck-dev libbenchmark-dev
  libboost-dev libmpfr-dev libgmp-dev libmpfi-dev
  libcli11-dev libfmt-dev nlohmann-json3-dev
  clang-14 libclang-rt-14-dev
  python3 python3-mpmath
  chromium  # renders the HTML certificate in a test (headless)
  libhwy-dev  # Highway: lib's SIMD kernels and the f16/bf16 conversions
  # adapters/: the third-party implementations softcert certifies (Debian's builds)
  libdnnl-dev libxnnpack-dev libpthreadpool-dev libopencv-dev libtorch-dev
  python3-numpy python3-scipy python3-venv python3-pip
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"

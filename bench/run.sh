#!/usr/bin/env bash
# The one command of issue 7's benchmarks: builds softcert_bench (release preset), runs it, and
# regenerates docs/performance.md from the run (bench/report.py).
#
#   bash bench/run.sh                      # the full run (about 10-20 minutes; keep the machine quiet)
#   bash bench/run.sh --benchmark_filter=/1024/ --benchmark_min_time=0.01   # a quick smoke
#
# Arguments are passed to softcert_bench after the defaults (3 repetitions of at least 0.2 s each;
# accurate's f64 in cache only, see below), so they override them. Environment:
#   SOFTCERT_BENCH_BUILD_DIR  build directory (default: the release preset's, build/release); any
#                             other directory must already be configured, and is built as it is.
#   SOFTCERT_BENCH_RESULTS    where the JSON, lscpu.txt, packages.txt go (default build/bench-results)
#   SOFTCERT_BENCH_REPORT     the Markdown written (default docs/performance.md)
#   SOFTCERT_BENCH_THREADS    threads of the `threads` case (default: every core)
#   SOFTCERT_BENCH_ONLY       parts registered, e.g. memory,lib,onednn (default: all; see main.cc)
#
# libtorch picks its CPU kernels once per process from ATEN_CPU_CAPABILITY, so the binary runs
# twice: once with the variable unset (implementation `libtorch`, plus everything else), once with
# ATEN_CPU_CAPABILITY=avx512 and only libtorch (implementation `libtorch-avx512`); report.py
# merges the two. On a CPU without AVX-512 the second run measures nothing of libtorch (libtorch
# would die of SIGILL) and the report says so.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build_dir=${SOFTCERT_BENCH_BUILD_DIR:-build/release}
results=${SOFTCERT_BENCH_RESULTS:-build/bench-results}
report=${SOFTCERT_BENCH_REPORT:-docs/performance.md}

if [ "$build_dir" = build/release ]; then
  cmake --preset release >/dev/null
  cmake --build --preset release --target softcert_bench
else
  cmake --build "$build_dir" --target softcert_bench
fi
bench="$build_dir/bench/softcert_bench"

rm -rf "$results"
mkdir -p "$results"
lscpu >"$results/lscpu.txt" 2>/dev/null || true
for p in libdnnl-dev libxnnpack-dev libtorch-dev libopencv-dev libbenchmark-dev libhwy-dev g++; do
  dpkg-query -W -f='${Package} ${Version}\n' "$p" 2>/dev/null || true
done >"$results/packages.txt"

echo "bash bench/run.sh $*" >"$results/command.txt"
# accurate's f64 kernels (double-double inside, ~1 µs per element) are measured in cache only: one
# iteration of a 16M-element batch takes ~18 s, and their batch and threads cases alone would add
# over 20 minutes. A filter given as an argument replaces this one.
defaults=(--benchmark_repetitions=3 --benchmark_min_time=0.2 --benchmark_display_aggregates_only=true
          '--benchmark_filter=-^f64_[a-z_]+/accurate/(batch|threads)/')
run() {  # run NAME [ENV=VALUE...] -- ARGS...: one run of the binary, JSON to $results/NAME.json
  local name=$1
  shift
  local env_args=()
  while [ "$1" != -- ]; do env_args+=("$1"); shift; done
  shift
  echo "  env -u ATEN_CPU_CAPABILITY ${env_args[*]}${env_args[*]:+ }$bench ${defaults[*]@Q} $*" >>"$results/command.txt"
  env -u ATEN_CPU_CAPABILITY "${env_args[@]}" "$bench" "${defaults[@]}" \
    --benchmark_out="$results/$name.json" --benchmark_out_format=json "$@"
}

run all -- "$@"
# The second libtorch configuration, with the limits again (so the run always matches something
# and writes its JSON, context included, even where libtorch-avx512 cannot run).
run libtorch-avx512 ATEN_CPU_CAPABILITY=avx512 SOFTCERT_BENCH_ONLY=memory,libtorch -- "$@"

python3 bench/report.py "$results" -o "$report"

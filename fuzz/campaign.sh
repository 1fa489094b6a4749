#!/usr/bin/env bash
# A time-boxed libFuzzer campaign over one target (DESIGN.md §7: -fork covers one big machine).
#   fuzz/campaign.sh <target> <seconds> [jobs]
#   fuzz/campaign.sh all <seconds> [jobs]     every target in turn ($SOFTCERT_FUZZ_TARGETS: those
#                                             listed), then a markdown table of exec/s, coverage,
#                                             corpus and findings per target
# Needs the clang build: cmake -S . -B build/fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 \
#   -DCMAKE_C_COMPILER=clang-14 -DSOFTCERT_FUZZ=ON && ninja -C build/fuzz softcert_fuzz_<target>
# (SOFTCERT_FUZZ_BUILD=<dir> names another build directory.) New inputs are kept in
# fuzz/corpus/<target>/ (commit the ones worth keeping); every crash is minimised with
# -minimize_crash and filed into fuzz/regressions/<target>/crash-<sha1>, which ctest replays
# forever (fuzz.replay.<target>).
set -euo pipefail
target=${1:?usage: campaign.sh <target>|all <seconds> [jobs]}
seconds=${2:?usage: campaign.sh <target>|all <seconds> [jobs]}
jobs=${3:-$(nproc)}
here=$(cd "$(dirname "$0")" && pwd)
if [[ $target == all ]]; then
  targets=$(sed -n 's/^ *softmax_family\(.*\))$/softmax_family\1/p' "$here/CMakeLists.txt")
  targets=${SOFTCERT_FUZZ_TARGETS:-$targets}  # a subset, e.g. to run two lists side by side
  summaries=() clean=0
  for t in $targets; do
    # tee -a: /dev/stderr may be a file, which a plain tee would truncate for every target.
    if summary=$("$0" "$t" "$seconds" "$jobs" | tee -a /dev/stderr | grep '^campaign summary:'); then :; else clean=1; fi
    summaries+=("$summary")
  done
  echo
  echo "| target | seconds | jobs | runs | exec/s | cov | ft | corpus before -> after -> minimised | new findings |"
  echo "|---|---:|---:|---:|---:|---:|---:|---|---:|"
  for line in "${summaries[@]}"; do
    field() { sed -n "s|.* $1=\([^ ]*\).*|\1|p" <<<"$line"; }
    echo "| $(field target) | $(field seconds) | $(field jobs) | $(field runs) | $(field exec/s) | $(field cov) | $(field ft) |" \
         "$(field corpus) | $(field new_regressions) |"
  done
  exit $clean
fi
build=${SOFTCERT_FUZZ_BUILD:-$here/../build/fuzz}
fuzzer=$build/fuzz/softcert_fuzz_$target
[[ -x $fuzzer ]] || { echo "campaign: $fuzzer not built (see the header of $0)" >&2; exit 2; }
corpus=$here/corpus/$target
regressions=$here/regressions/$target
work=$(mktemp -d "${TMPDIR:-/tmp}/softcert-fuzz-$target.XXXXXX")
mkdir -p "$corpus" "$regressions" "$work/artifacts"
before=$(find "$corpus" -type f | wc -l)

echo "campaign: $target for ${seconds}s, $jobs jobs; work dir $work"
set +e
(cd "$work" && "$fuzzer" -fork="$jobs" -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 \
   -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -dict="$here/float.dict" \
   -artifact_prefix="$work/artifacts/" "$corpus" >"$work/fuzz.log" 2>&1)
status=$?
set -e
after=$(find "$corpus" -type f | wc -l)

filed=0
for crash in "$work"/artifacts/crash-* "$work"/artifacts/timeout-* "$work"/artifacts/oom-*; do
  [[ -e $crash ]] || continue
  min=$work/min-$(basename "$crash")
  "$fuzzer" -minimize_crash=1 -runs=2000 -exact_artifact_path="$min" "$crash" >>"$work/minimize.log" 2>&1 || true
  [[ -s $min ]] || min=$crash
  name=$(basename "$crash" | cut -d- -f1)-$(sha1sum "$min" | cut -c1-16)
  if [[ ! -e $regressions/$name ]]; then
    cp "$min" "$regressions/$name"
    filed=$((filed + 1))
    echo "campaign: filed $regressions/$name; reproduce: $fuzzer $regressions/$name" \
         "(or build/default/fuzz/softcert_fuzz_${target}_replay, any compiler)"
    "$fuzzer" "$regressions/$name" 2>&1 | grep -A2 'FAILED' | head -3 || true
  fi
done

# -fork's status lines: "#<runs>: cov: C ft: F corp: N exec/s R ... time: Ts job: J"; exec/s is
# the whole campaign's average (runs over time), not the last job's.
status_line=$(grep '^#[0-9]*: cov:' "$work/fuzz.log" | tail -1)
field() { sed -n "s/.* $1 \([0-9]*\).*/\1/p" <<<"$status_line"; }  # " time:", not "dft_time:"
runs=$(sed -n 's/^#\([0-9]*\):.*/\1/p' <<<"$status_line") cov=$(field cov:) ft=$(field ft:) elapsed=$(field time:)
execs=$( ((${elapsed:-0} > 0)) && echo $((runs / elapsed)) || echo "?")
"$here/minimize-corpus.sh" "$target" >"$work/minimize-corpus.log" 2>&1 || cat "$work/minimize-corpus.log" >&2
minimised=$(find "$corpus" -type f | wc -l)
echo "campaign summary: target=$target seconds=$seconds jobs=$jobs exit=$status runs=${runs:-?} exec/s=$execs" \
     "cov=${cov:-?} ft=${ft:-?} corpus=$before->$after->$minimised new_regressions=$filed log=$work/fuzz.log"
[[ $filed -eq 0 ]]

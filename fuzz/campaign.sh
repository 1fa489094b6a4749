#!/usr/bin/env bash
# A time-boxed libFuzzer campaign over one target (DESIGN.md §7: -fork covers one big machine).
#   fuzz/campaign.sh <target> <seconds> [jobs]
# Needs the clang build: cmake -S . -B build/fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 \
#   -DCMAKE_C_COMPILER=clang-14 -DSOFTCERT_FUZZ=ON && ninja -C build/fuzz softcert_fuzz_<target>
# (SOFTCERT_FUZZ_BUILD=<dir> names another build directory.) New inputs are kept in
# fuzz/corpus/<target>/ (commit the ones worth keeping); every crash is minimised with
# -minimize_crash and filed into fuzz/regressions/<target>/crash-<sha1>, which ctest replays
# forever (fuzz.replay.<target>).
set -euo pipefail
target=${1:?usage: campaign.sh <target> <seconds> [jobs]}
seconds=${2:?usage: campaign.sh <target> <seconds> [jobs]}
jobs=${3:-$(nproc)}
here=$(cd "$(dirname "$0")" && pwd)
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
    echo "campaign: filed $regressions/$name; reproduce: $build/fuzz/softcert_fuzz_${target}_replay $regressions/$name"
    "$build/fuzz/softcert_fuzz_${target}_replay" "$regressions/$name" 2>&1 | grep -A2 'FAILED' | head -3 || true
  fi
done

execs=$(grep -o 'exec/s: [0-9]*' "$work/fuzz.log" | tail -1 | cut -d' ' -f2)
echo "campaign summary: target=$target seconds=$seconds jobs=$jobs exit=$status exec/s=${execs:-?}" \
     "corpus=$before->$after new_regressions=$filed log=$work/fuzz.log"
[[ $filed -eq 0 ]]

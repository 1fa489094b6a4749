#!/usr/bin/env bash
# Minimises fuzz/corpus/<target>/ with libFuzzer's -merge=1: keeps the smallest set of inputs
# that reaches the same coverage. The generated seeds (seed-*, fuzz/make_corpus.py) always stay;
# every other file is replaced by the merged set, named by content hash as libFuzzer names them.
#   fuzz/minimize-corpus.sh <target>      (SOFTCERT_FUZZ_BUILD names the clang build, default build/fuzz)
set -euo pipefail
target=${1:?usage: minimize-corpus.sh <target>}
here=$(cd "$(dirname "$0")" && pwd)
build=${SOFTCERT_FUZZ_BUILD:-$here/../build/fuzz}
fuzzer=$build/fuzz/softcert_fuzz_$target
[[ -x $fuzzer ]] || { echo "minimize-corpus: $fuzzer not built (see fuzz/README.md)" >&2; exit 2; }
corpus=$here/corpus/$target
work=$(mktemp -d "${TMPDIR:-/tmp}/softcert-merge-$target.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/seeds" "$work/merged"
cp "$corpus"/seed-* "$work/seeds/" 2>/dev/null || true
before=$(find "$corpus" -type f | wc -l)
# Seeds first: -merge keeps what the first folders already cover and adds only what is new.
"$fuzzer" -merge=1 -timeout=30 -rss_limit_mb=4096 "$work/merged" "$work/seeds" "$corpus" >"$work/merge.log" 2>&1 \
  || { tail -20 "$work/merge.log" >&2; exit 1; }
seed_hashes=$(cd "$work/seeds" && sha1sum -- * 2>/dev/null | cut -d' ' -f1 || true)
find "$corpus" -type f ! -name 'seed-*' -delete
for f in "$work/merged"/*; do
  [[ -e $f ]] || continue
  grep -qx "$(basename "$f")" <<<"$seed_hashes" || cp "$f" "$corpus/"
done
after=$(find "$corpus" -type f | wc -l)
echo "minimize-corpus: $target $before -> $after files"

#!/usr/bin/env bash
# Builds every fuzz target the OSS-Fuzz / ClusterFuzzLite way; ci/oss-fuzz/build.sh is one
# call to this script. Uses $CC $CXX $CFLAGS $CXXFLAGS (sanitizers, -fsanitize=fuzzer-no-link)
# and $LIB_FUZZING_ENGINE, and writes into $OUT: <target>, <target>_seed_corpus.zip and
# <target>.dict for each target.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${WORK:-/tmp}/softcert-oss-fuzz
: "${OUT:?OUT must name the output directory}" "${LIB_FUZZING_ENGINE:?LIB_FUZZING_ENGINE must be set}"
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSOFTCERT_BUILD_TESTS=OFF -DSOFTCERT_FUZZ=ON \
      -DCMAKE_C_COMPILER="${CC:-clang}" -DCMAKE_CXX_COMPILER="${CXX:-clang++}"
targets=$(sed -n 's/^ *softmax_family\(.*\))$/softmax_family\1/p' "$src/fuzz/CMakeLists.txt")
targets=${SOFTCERT_FUZZ_TARGETS:-$targets}
for t in $targets; do
  cmake --build "$build" --target "softcert_fuzz_$t" -j"$(nproc)"
  cp "$build/fuzz/softcert_fuzz_$t" "$OUT/$t"
  cp "$src/fuzz/float.dict" "$OUT/$t.dict"
  (cd "$src/fuzz/corpus/$t" && zip -q -j "$OUT/${t}_seed_corpus.zip" ./*)
done

#!/usr/bin/env bash
# Regenerates the generated parts of docs/ from the code: the property catalogue table
# (docs/properties.md) and the table of which property catches which broken implementation
# (docs/broken-implementations.md). Builds first; run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset default >/dev/null
cmake --build --preset default --target softcert_properties_tests
tests=build/default/properties/softcert_properties_tests
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
SOFTCERT_PROPERTIES_DOC="$work/properties.md" "$tests" --gtest_filter='CatalogueDoc.*' >/dev/null
SOFTCERT_BROKEN_TABLE="$work/broken.md" "$tests" --gtest_filter='BrokenSet.EveryBrokenImplementationIsCaught' >/dev/null

splice() {  # splice FILE TABLE: replace what stands between the generated-table markers
  python3 - "$1" "$2" <<'PY'
import sys
path, table = sys.argv[1], open(sys.argv[2]).read()
text = open(path).read()
begin, end = "<!-- generated table: begin -->\n", "<!-- generated table: end -->"
head, rest = text.split(begin)
_, tail = rest.split(end)
open(path, "w").write(head + begin + table + end + tail)
PY
}
splice docs/properties.md "$work/properties.md"
splice docs/broken-implementations.md "$work/broken.md"
echo "docs/properties.md and docs/broken-implementations.md regenerated"

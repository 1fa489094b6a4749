#!/usr/bin/env bash
# --battery exhaustive on a slice (shard 1/2048: two chunks of 2^20 inputs, from +0 through the
# subnormals): accurate passes correctly rounded; with --state a second run resumes (nothing
# left to do) and reports the same figures; a naive sigmoid fails on shard 1068/2048 (x from -88
# to -96, where exp(-x) overflows and 1/(1 + inf) loses the subnormal results) with its inputs listed.
set -euo pipefail
softcert=$1 broken=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$softcert" certify --builtin accurate --battery exhaustive --shard 1/2048 --state "$work/state" --json "$work/a.json" >/dev/null
[ "$(wc -l <"$work/state")" -eq 2 ] || { echo "FAIL: state file should list 2 chunks"; exit 1; }
"$softcert" certify --builtin accurate --battery exhaustive --shard 1/2048 --state "$work/state" --json "$work/b.json" >/dev/null
[ "$(wc -l <"$work/state")" -eq 2 ] || { echo "FAIL: the resumed run redid chunks"; exit 1; }
python3 - "$work/a.json" "$work/b.json" <<'PY'
import json, sys
a, b = (json.load(open(p))["checks"][0] for p in sys.argv[1:])
assert a["status"] == "pass" and a["cases"] == 2 << 20 and a["max_ulp"] <= 0.5, a
assert (a["status"], a["cases"], a["max_ulp"]) == (b["status"], b["cases"], b["max_ulp"]), (a, b)
print("ok: exhaustive slice passes correctly rounded, and resumes from its state file")
PY
set +e
"$softcert" certify --plugin "$broken" --battery exhaustive --shard 1068/2048 --json "$work/c.json" >/dev/null
status=$?
set -e
[ "$status" -eq 1 ] || { echo "FAIL: broken sigmoid exited $status"; exit 1; }
grep -q '"counterexample": "x = ' "$work/c.json" || { echo "FAIL: no inputs listed"; exit 1; }
echo "ok: a broken sigmoid fails the exhaustive slice with its inputs listed"

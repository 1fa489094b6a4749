#!/usr/bin/env bash
# --battery deep: the standard battery, then a fuzz campaign against the plugin. With the
# libFuzzer plugin target built (the fuzz preset), a NaN-swallowing plugin fails the campaign
# check with its input and a rerun command, and lib's accurate plugin passes it.
#   deep_battery.sh SOFTCERT FUZZER BROKEN_PLUGIN GOOD_PLUGIN
set -euo pipefail
softcert=$1 fuzzer=$2 broken=$3 good=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
set +e
"$softcert" certify --plugin "$broken" --battery deep --time 10 --fuzzer "$fuzzer" --functions softmax -j1 --json "$work/b.json" >/dev/null
broken_status=$?
"$softcert" certify --plugin "$good" --battery deep --time 10 --fuzzer "$fuzzer" --functions sigmoid -j1 --json "$work/g.json" >/dev/null
good_status=$?
set -e
python3 - "$work/b.json" "$work/g.json" "$broken_status" "$good_status" <<'PY'
import json, sys
b, g = (next(c for c in json.load(open(p))["checks"] if c["check"] == "fuzz/plugin_campaign") for p in sys.argv[1:3])
assert sys.argv[3] == "1" and b["status"] == "fail" and "rerun:" in b["counterexample"], b
assert sys.argv[4] == "0" and g["status"] == "pass" and g["cases"] > 0, g
print(f"ok: deep battery: the broken plugin fails the campaign ({b['reason'][:90]}...), accurate passes ({g['reason']})")
PY

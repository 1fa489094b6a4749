#!/usr/bin/env bash
# The softcert command's documented exit codes (DESIGN.md §6): 2 when the run cannot be done,
# 0 for a certificate that passes; and the JSON report's required fields.
set -u
softcert=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

expect() {  # expect CODE DESCRIPTION -- COMMAND...
  local want=$1 what=$2
  shift 3
  "$@" >"$work/out" 2>"$work/err"
  local got=$?
  if [ "$got" -ne "$want" ]; then
    echo "FAIL: $what: exit $got, expected $want"; cat "$work/out" "$work/err"; failures=$((failures + 1))
  else
    echo "ok: $what (exit $got)"
  fi
}

expect 2 "unknown builtin" -- "$softcert" certify --builtin no-such
expect 2 "unknown battery" -- "$softcert" certify --builtin stable --battery nope
expect 2 "unknown function" -- "$softcert" certify --builtin stable --functions softmaxx
expect 2 "no subcommand" -- "$softcert"
expect 2 "unwritable report" -- "$softcert" certify --builtin accurate --battery smoke --functions sigmoid --json /nonexistent/dir/r.json
expect 2 "missing plugin file" -- "$softcert" certify --plugin /nonexistent/plugin.so
expect 2 "not a shared library" -- "$softcert" certify --plugin "$0"
grep -q 'cannot certify' "$work/err" || { echo "FAIL: no reason for an unloadable plugin"; failures=$((failures + 1)); }
expect 2 "exec command that is not softcert-exec" -- "$softcert" certify --exec "echo hello"
expect 2 "exec command that does not exist" -- "$softcert" certify --exec "/nonexistent/command"
expect 2 "two targets" -- "$softcert" certify --builtin accurate --exec "true"
expect 0 "help" -- "$softcert" certify --help
expect 0 "list" -- "$softcert" list
grep -q accurate "$work/out" || { echo "FAIL: list does not name 'accurate'"; failures=$((failures + 1)); }

expect 0 "accurate sigmoid certifies" -- "$softcert" certify --builtin accurate --battery smoke --functions sigmoid --json "$work/r.json"
grep -q '^verdict: PASS' "$work/out" || { echo "FAIL: no PASS verdict line"; failures=$((failures + 1)); }
python3 - "$work/r.json" <<'PY' || failures=$((failures + 1))
import json, sys
r = json.load(open(sys.argv[1]))
assert r["verdict"] == "pass" and r["implementation"] == "accurate", r
assert r["checks"], "no checks"
for c in r["checks"]:
    for key in ("function", "dtype", "check", "status"):
        assert key in c, (key, c)
    assert c["status"] in ("pass", "fail", "declined", "skipped"), c
print("ok: JSON report has the fields of DESIGN.md §6")
PY

# online provides no sigmoid: nothing is certified, which is a failure, never a pass.
expect 1 "nothing certified" -- "$softcert" certify --builtin online --battery smoke --functions sigmoid
grep -q 'nothing certified' "$work/out" || { echo "FAIL: no 'nothing certified'"; failures=$((failures + 1)); }

echo "$((failures == 0 ? 1 : 0)) passed, $failures failed"
[ "$failures" -eq 0 ]

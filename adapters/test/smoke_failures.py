#!/usr/bin/env python3
"""Certify an adapter with the smoke battery and compare its failing checks with a committed list.

usage: smoke_failures.py SOFTCERT EXPECTED.txt REPORT.json TARGET...

TARGET is what `softcert certify` takes to name the implementation: `--plugin PATH.so` or
`--exec "COMMAND"`. EXPECTED.txt holds one failing check per line, "function dtype check" ('#'
starts a comment): the checks the adapter's library is known to fail, each written up in
docs/findings/ or the adapter's README. The test fails when a check fails that is not listed (a
regression in the adapter, the certifier or the library), when a listed check no longer fails
(fixed: update the list and its write-up), when the run itself could not be done (exit status 2),
or when the exit status disagrees with the list.
"""
import json
import subprocess
import sys


def certify_and_compare(softcert, expected_path, report, target, cwd=None):
    """Runs the smoke battery on TARGET (softcert certify's arguments naming it) and prints every
    difference from the list; True when there is none."""
    run = subprocess.run([softcert, "certify", *target, "--battery", "smoke", "--json", report],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=cwd)
    if run.returncode not in (0, 1):
        print(run.stdout[-3000:])
        print(f"softcert exited {run.returncode}: the run could not be done")
        return False
    with open(report) as f:
        checks = json.load(f)
    failing = {f"{c['function']} {c['dtype']} {c['check']}" for c in checks["checks"] if c["status"] == "fail"}
    with open(expected_path) as f:
        expected = {line.split("#", 1)[0].strip() for line in f}
    expected.discard("")
    ok = True
    for check in sorted(failing - expected):
        reason = next(c.get("reason", "") for c in checks["checks"]
                      if f"{c['function']} {c['dtype']} {c['check']}" == check and c["status"] == "fail")
        print(f"newly failing: {check}: {reason}")
        ok = False
    for check in sorted(expected - failing):
        print(f"listed as failing but did not fail: {check}")
        ok = False
    want_exit = 1 if expected else 0
    if run.returncode != want_exit:
        print(f"softcert exited {run.returncode}, expected {want_exit}")
        ok = False
    print(f"{checks['implementation']}: {len(failing)} failing checks, "
          + ("as expected" if ok else f"expected {len(expected)} (see above)"))
    return ok


def main():
    softcert, expected_path, report = sys.argv[1:4]
    return 0 if certify_and_compare(softcert, expected_path, report, sys.argv[4:]) else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Writes docs/certifications.md from the JSON reports of ci/certify-third-party.sh.

    certifications.py REPORT_DIR [--output docs/certifications.md] [--softcert PATH] [--python PATH]

REPORT_DIR holds <name>.json (softcert-report/1, docs/report-schema.md) for each adapter that was
certified and <name>.unavailable (why softcert could not run it) for the others. For each library
the document gives its exact name and version (the report's `implementation`: the plugin's
softcert_name() or the exec adapter's handshake name), the function × type grades with the verdict
of their checks, the special-value conventions, and every failure with its counterexample and
repro command.

The conventions are derived from the checks exactly as the HTML certificate derives its flags
(certify/src/report_html.cc, "Grades and flags per function and type"): NaN-propagating and +inf
limit from special_values/fixed_rows (its reason names the kinds of row that failed), the fully
masked row from behaviour/fully_masked_row's reason, subnormal flushing from
behaviour/subnormal_results, overflow-safe from oracle_agreement/huge_offset and near_overflow,
−inf entries from oracle_agreement/neg_inf_entries, deterministic from
property/kernel.determinism. Standard library only.
"""
import argparse
import datetime
import glob
import json
import os
import platform
import subprocess
import sys

FUNCTION_ORDER = ["softmax", "log_softmax", "logsumexp", "softmax_temperature", "sigmoid", "cross_entropy",
                  "cross_entropy_grad", "softmax_backward", "masked_softmax", "attention", "kernel"]
DTYPE_ORDER = ["f32", "f64", "f16", "bf16"]


def flags_of(report):
    """{(function, dtype): {flag: value}} and {dtype: determinism status}: report_html.cc's logic."""
    flags = {}
    for c in report["checks"]:
        f = flags.setdefault((c["function"], c["dtype"]), {})
        status, reason, check = c["status"], c.get("reason", ""), c["check"]

        def note(flag):
            v = f.get(flag, "")
            f[flag] = "no" if status == "fail" else ("no" if v == "no" else "yes" if status == "pass" else v)
        if check == "special_values/fixed_rows" and status != "declined":
            f["NaN-propagating"] = "no" if "NaN rows" in reason else "yes"
            f["+inf limit"] = "no" if "+inf rows" in reason else "yes"
        if check == "behaviour/fully_masked_row" and status != "declined":
            f["fully masked row"] = reason
        if check == "behaviour/subnormal_results" and status != "declined":
            f["flushes subnormals"] = "yes" if reason == "flushes subnormal results to zero" else "no"
        if check in ("oracle_agreement/huge_offset", "oracle_agreement/near_overflow"):
            note("overflow-safe")
        if check == "oracle_agreement/neg_inf_entries":
            note("−inf entries")
    determinism = {c["dtype"]: c["status"] for c in report["checks"]
                   if c["function"] == "kernel" and c["check"] == "property/kernel.determinism"}
    return flags, determinism


def order(key):
    function, dtype = key
    return (FUNCTION_ORDER.index(function) if function in FUNCTION_ORDER else 99,
            DTYPE_ORDER.index(dtype) if dtype in DTYPE_ORDER else 9)


def verdicts(report):
    """{(function, dtype): 'pass' | 'fail' | 'declined'} over that function's checks."""
    out = {}
    for c in report["checks"]:
        key = (c["function"], c["dtype"])
        if c["status"] == "fail":
            out[key] = "fail"
        elif c["status"] == "pass" and out.get(key) != "fail":
            out[key] = "pass"
        elif c["status"] == "declined":
            out.setdefault(key, "declined")
    return out


def number(v):
    if v is None:
        return "∞"
    return f"{v:.4g}"


def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def library_section(name, report, report_path):
    lines = []
    checks = report["checks"]
    counts = {s: sum(1 for c in checks if c["status"] == s) for s in ("pass", "fail", "declined", "skipped")}
    lines.append(f"## {report['implementation']}\n")
    if not any(c["status"] in ("pass", "fail") for c in checks):
        lines.append(f"Nothing certified on this machine: every call was declined ({len(checks)} checks declined or "
                     f"skipped; {report['battery']} battery, target `{report.get('target', '')}`). Report: `{report_path}`.\n")
        return "\n".join(lines) + "\n"
    lines.append(f"Verdict **{report['verdict'].upper()}** ({report['battery']} battery, seed {report['seed']}, profile "
                 f"{report['profile']}, target `{report.get('target', '')}`): {len(checks)} checks, {counts['pass']} passed, "
                 f"{counts['fail']} failed, {counts['declined']} declined, {counts['skipped']} skipped. "
                 f"Report: `{report_path}` (and `.html`).\n")
    flags, determinism = flags_of(report)
    checks_verdict = verdicts(report)
    lines.append("| function | type | checks | grade | max ULP (normal) | max ULP | conventions |")
    lines.append("|---|---|---|---|---:|---:|---|")
    for g in sorted(report.get("grades", []), key=lambda g: order((g["function"], g["dtype"]))):
        key = (g["function"], g["dtype"])
        fl = [f"{k}: {v}" for k, v in sorted(flags.get(key, {}).items()) if v]
        if g["dtype"] in determinism:
            fl.append("deterministic: " + ("yes" if determinism[g["dtype"]] == "pass" else "no"))
        lines.append(f"| {g['function']} | {g['dtype']} | {checks_verdict.get(key, '')} | {g['grade']} | "
                     f"{number(g.get('max_ulp_normal'))} | {number(g.get('max_ulp'))} | {cell('; '.join(fl))} |")
    kernel = [c for c in checks if c["function"] == "kernel" and c["status"] == "fail"]
    if kernel:
        lines.append("\nKernel-wide properties failing: " + ", ".join(f"{c['check']} ({c['dtype']})" for c in kernel) + ".")
    failures = [c for c in checks if c["status"] == "fail"]
    if failures:
        lines.append(f"\n### Failures of {name} ({len(failures)})\n")
        for c in failures:
            label = f"{c['function']} {c['dtype']} {c['check']}"
            lines.append(f"- **{label}**: {cell(c.get('reason', ''))}")
            ce = c.get("counterexample", "")
            if ce:
                ce = ce if len(ce) <= 1200 else ce[:1200] + " …"
                lines.append(f"\n  ```\n  {ce}\n  ```")
            fn = "" if c["function"] == "kernel" else f" --functions {c['function']}"
            lines.append(f"\n  repro: `softcert repro {report_path} '{label}'` or `softcert certify {report.get('target', '')} "
                         f"--battery {report['battery']} --seed {report['seed']} --profile {report['profile']}{fn} "
                         f"--dtypes {c['dtype']} --checks {c['check']}`\n")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports")
    parser.add_argument("--output", default="docs/certifications.md")
    parser.add_argument("--softcert", default="softcert", help="shown in the repro commands' provenance")
    parser.add_argument("--python", default=sys.executable, help="the interpreter the Python adapters ran with")
    args = parser.parse_args()

    reports = []
    for path in sorted(glob.glob(os.path.join(args.reports, "*.json"))):
        with open(path) as f:
            reports.append((os.path.splitext(os.path.basename(path))[0], json.load(f), os.path.relpath(path)))
    unavailable = []
    for path in sorted(glob.glob(os.path.join(args.reports, "*.unavailable"))):
        with open(path) as f:
            lines = [line.strip() for line in f if line.strip()]
        unavailable.append((os.path.splitext(os.path.basename(path))[0], lines[-1] if lines else "unknown reason"))

    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    except OSError:
        commit = ""
    out = ["# Certifications of third-party softmax implementations\n",
           "Generated by `bash ci/certify-third-party.sh` (adapters/tools/certifications.py, from the JSON reports in "
           f"`{os.path.relpath(args.reports)}/`) on {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
           f"{platform.system()} {platform.machine()}" + (f", {cpu}" if cpu else "") +
           (f", softcert at commit {commit}" if commit else "") + ". Do not edit by hand: rerun the command.\n",
           "Each library is certified through its adapter (adapters/<name>/ for C++ plugins, adapters/python/ for the "
           "softcert-exec/1 adapters) against the multiprecision oracle. Grades (DESIGN.md §2, docs/report-schema.md): "
           "correctly rounded ≤ 0.5 ULP on every output, faithful ≤ 1 ULP, within bound: inside the a-priori error "
           "bound of the standard algorithm (docs/bounds.md), fails: some output beyond it. The *checks* column is the "
           "verdict of every check of that function and type (pass, fail, or declined: every call declined). "
           "Conventions are derived from the checks as the HTML certificate derives its flags. Failures listed here "
           "are investigated in docs/findings/.\n",
           "Battery: " + ", ".join(sorted({r["battery"] for _, r, _ in reports})) +
           (" (the command's default is standard; this run used a lighter one)"
            if reports and all(r["battery"] == "smoke" for _, r, _ in reports) else "") + ".\n",
           "Throughput: not measured here (softcert-exec/1 moves every value through a pipe, which would time the "
           "protocol, not the library); see docs/performance.md.\n",
           "## Summary\n",
           "| library | verdict | checks passed / failed / declined / skipped | functions × types certified |",
           "|---|---|---|---|"]
    for name, report, path in reports:
        checks = report["checks"]
        counts = [sum(1 for c in checks if c["status"] == s) for s in ("pass", "fail", "declined", "skipped")]
        certified = len(report.get("grades", []))
        verdict = report["verdict"].upper() if counts[0] + counts[1] else "nothing certified (every call declined)"
        out.append(f"| {cell(report['implementation'])} | {verdict} | {' / '.join(map(str, counts))} | {certified} |")
    for name, why in unavailable:
        out.append(f"| {name} | not run here | {cell(why)} | 0 |")
    out.append("")
    for name, report, path in reports:
        out.append(library_section(name, report, path))
    findings = sorted(glob.glob(os.path.join(os.path.dirname(os.path.abspath(args.output)), "findings", "*.md")))
    if findings:
        out.append("## Findings written up\n")
        for path in findings:
            with open(path) as f:
                title = f.readline().lstrip("# ").strip()
            out.append(f"- [{title}](findings/{os.path.basename(path)})")
        out.append("")
    if unavailable:
        out.append("## Not certified on this machine\n")
        for name, why in unavailable:
            out.append(f"- **{name}**: {why}")
        out.append("")
    with open(args.output, "w") as f:
        f.write("\n".join(out))
    print(f"certifications: {len(reports)} reports, {len(unavailable)} unavailable -> {args.output}")


if __name__ == "__main__":
    main()

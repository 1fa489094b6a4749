#!/usr/bin/env python3
"""Writes docs/performance.md from softcert_bench's JSON output (bench/run.sh calls it).

    python3 bench/report.py RESULTS_DIR [-o docs/performance.md]

RESULTS_DIR holds the runs' JSON (*.json, Google Benchmark's --benchmark_format=json, merged:
one run of everything, one of libtorch with ATEN_CPU_CAPABILITY=avx512), `lscpu.txt`,
`packages.txt` (dpkg-query lines) and `command.txt` (the command that produced them). Every
figure and every verdict below is computed from those files; nothing is written by hand.

Benchmark names are <dtype>_<function>/<implementation>/<case>/<n>[/real_time], dtype f32 or f64,
labels lib, peer or limit (bench/harness.hpp). With repetitions, the median of the repetitions is
used. The f32 sections (and the verdicts, f32 only) come first, then the same tables for f64.
"""

import argparse
import glob
import json
import os
import statistics
import sys
from collections import defaultdict

DTYPES = ["f32", "f64"]
ELEMENT_BYTES = {"f32": 4, "f64": 8}
# The sections, in this order: issue 7's three functions, then the rest of the ABI's (attention aside).
FUNCTIONS = ["softmax", "log_softmax", "logsumexp", "softmax_temperature", "sigmoid", "cross_entropy",
             "cross_entropy_grad", "softmax_backward", "masked_softmax"]
CASES = ["batch", "cache", "threads"]
# sigmoid has no rows: one row of all the elements, its tables list the element count.
ELEMENTWISE = {"sigmoid"}
# Arrays of elements each function reads (softmax_backward: y and dy), and its bytes read per element
# besides them (masked_softmax's keep mask).
INPUT_ARRAYS = {"softmax_backward": 2}
EXTRA_INPUT_BYTES = {"masked_softmax": 1}


def case_title(dtype, case, function="softmax"):
    size = "16M elements" if function in ELEMENTWISE else "rows × n = 16M elements"
    if case == "batch":
        mib = 16 * (ELEMENT_BYTES[dtype] * INPUT_ARRAYS.get(function, 1) + EXTRA_INPUT_BYTES.get(function, 0))
        return f"single thread, {size} ({mib} MiB in)"
    if case == "cache":
        return f"single thread, {size.replace('16M', '32K')} (in cache)"
    return f"{size}, " + ("split" if function in ELEMENTWISE else "rows spread") + " over every core"

# Issue 7, "Done when": speed-up over the fastest peer at every n of the batch from 128 to 1M,
# and the memory-bound limit on the 16M-element batch.
SPEEDUP_REQUIRED = 1.5
MEMORY_RATIO_ALLOWED = 1.25
DONE_WHEN_N = [128, 1024, 8192, 65536, 1048576]
# The limit of each function: softmax and log_softmax read and write every element (memcpy: 4 B + 4 B
# per f32 element, 8 B + 8 B per f64 one), logsumexp only reads it (a read-only sum: 4 B or 8 B).
# Likewise the copy for the other functions with an output per element (masked_softmax reads 1 B of
# mask more, not counted), the read for cross_entropy; softmax_backward reads two arrays and writes
# one (c = a + b: 12 B per f32 element, 24 B per f64 one).
LIMIT_OF = {"softmax": "copy", "log_softmax": "copy", "logsumexp": "read", "softmax_temperature": "copy",
            "sigmoid": "copy", "cross_entropy": "read", "cross_entropy_grad": "copy", "softmax_backward": "add",
            "masked_softmax": "copy"}
# Elements moved per element by each limit.
LIMIT_ELEMENTS = {"copy": 2, "read": 1, "add": 3}


def parse_name(name):
    parts = name.split("/")
    if parts and parts[-1] == "real_time":
        parts = parts[:-1]
    if len(parts) != 4 or parts[0][:4] not in {f"{d}_" for d in DTYPES}:
        return None
    return parts[0][:3], parts[0][4:], parts[1], parts[2], int(parts[3])


def load(results_dir):
    """(values, kinds, errors, contexts): values[(dtype, function, impl, case, n)] = ns/element."""
    samples = defaultdict(list)
    medians = {}
    kinds, errors, contexts = {}, {}, []  # kinds: impl -> label, in the run's (registration) order
    files = sorted(glob.glob(os.path.join(results_dir, "*.json")))
    if not files:
        sys.exit(f"report.py: no *.json in {results_dir}")
    for path in files:
        if os.path.getsize(path) == 0:
            continue
        with open(path) as f:
            data = json.load(f)
        contexts.append((os.path.basename(path), data.get("context", {})))
        for b in data.get("benchmarks", []):
            key = parse_name(b.get("run_name", b["name"]))
            if key is None:
                continue
            if b.get("label"):
                kinds.setdefault(key[2], b["label"])
            if b.get("error_occurred"):
                errors[key] = b.get("error_message", "error")
                continue
            if b.get("run_type") == "aggregate":
                if b.get("aggregate_name") == "median" and "ns_per_element" in b:
                    medians[key] = b["ns_per_element"]
                continue
            if "ns_per_element" in b:
                samples[key].append(b["ns_per_element"])
    values = {k: statistics.median(v) for k, v in samples.items()}
    for k, v in medians.items():
        values.setdefault(k, v)
    return values, kinds, errors, contexts


def fmt(x):
    if x is None:
        return "—"
    return f"{x:.3g}" if x < 100 else f"{x:.0f}"


def read_text(results_dir, name):
    path = os.path.join(results_dir, name)
    return open(path).read() if os.path.exists(path) else ""


def lscpu_fields(text):
    fields = {}
    for line in text.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            fields[k.strip()] = v.strip()
    return fields


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results_dir")
    ap.add_argument("-o", "--output", default="docs/performance.md")
    args = ap.parse_args()

    values, kinds, errors, contexts = load(args.results_dir)
    # The order of the run: lib in registry order, then the peers.
    lib = [i for i, kind in kinds.items() if kind == "lib"]
    peers = [i for i, kind in kinds.items() if kind == "peer"]
    context = {}
    for _, c in contexts:
        for k, v in c.items():
            context.setdefault(k, v)
    cpu = lscpu_fields(read_text(args.results_dir, "lscpu.txt"))
    flags = cpu.get("Flags", "")
    avx512 = sorted(f for f in flags.split() if f.startswith("avx512")) if flags else context.get("cpu_avx512", "").split()
    if avx512 == ["none"]:
        avx512 = []

    def get(dtype, function, impl, case, n):
        return values.get((dtype, function, impl, case, n))

    def limit(dtype, function, case):
        name = LIMIT_OF[function]
        return next((v for (d, f, i, c, n), v in values.items() if d == dtype and f == name and c == case), None)

    def best(dtype, function, names, case, n):
        measured = [(get(dtype, function, i, case, n), i) for i in names if get(dtype, function, i, case, n) is not None]
        return min(measured) if measured else (None, None)

    def write_function(dtype, function):
        """The tables of one dtype and function: every case measured, then its errors."""
        keys = [k for k in list(values) + list(errors) if k[0] == dtype and k[1] == function]
        f_lib = [i for i in lib if any(k[1] == function and k[2] == i for k in values if k[0] == dtype)]
        f_peers = [i for i in peers if any(k[2] == i for k in keys)]
        if not f_lib and not f_peers:
            return
        w(f"## {dtype} {function}")
        w("")
        for case in CASES:
            ns = sorted({k[4] for k in keys if k[3] == case})
            if not ns:
                continue
            lim = limit(dtype, function, case)
            w(f"### {case}: {case_title(dtype, case, function)}")
            w("")
            moved = LIMIT_ELEMENTS[LIMIT_OF[function]] * ELEMENT_BYTES[dtype]
            extra = EXTRA_INPUT_BYTES.get(function)
            w(f"Memory-bound limit ({LIMIT_OF[function]}: {moved} B per element"
              + ("" if case != "cache" else ", from cache") + f"): {fmt(lim)} ns/element"
              + (f" = {moved / lim:.1f} GB/s" if lim else "")
              + (f"; {function} also reads {extra} B of mask per element, not in the limit." if extra else "."))
            w("")
            header = (["elements" if function in ELEMENTWISE else "n"] + f_lib + f_peers
                      + ["best lib", "fastest peer", "speed-up", "best lib / limit"])
            w("| " + " | ".join(header) + " |")
            w("|" + "|".join(["---:"] * len(header)) + "|")
            for n in ns:
                cells = [str(n)]
                for i in f_lib + f_peers:
                    if (dtype, function, i, case, n) in errors:
                        cells.append("error")
                    else:
                        cells.append(fmt(get(dtype, function, i, case, n)))
                lib_v, lib_i = best(dtype, function, f_lib, case, n)
                peer_v, peer_i = best(dtype, function, f_peers, case, n)
                cells.append(f"{lib_i} {fmt(lib_v)}" if lib_i else "—")
                cells.append(f"{peer_i} {fmt(peer_v)}" if peer_i else "—")
                cells.append(f"{peer_v / lib_v:.2f}×" if lib_v and peer_v else "—")
                cells.append(f"{lib_v / lim:.2f}×" if lib_v and lim else "—")
                w("| " + " | ".join(cells) + " |")
            w("")
        shown = {k: e for k, e in errors.items() if k[0] == dtype and k[1] == function}
        for (d, f, i, c, n), e in sorted(shown.items()):
            w(f"- error: {i} {c} {'elements' if function in ELEMENTWISE else 'n'} = {n}: {e}")
        if shown:
            w("")

    # Which libtorch configurations were asked for and not measured, and why (the binary notes it).
    unmeasured = {}
    for _, c in contexts:
        for k, v in c.items():
            if k.startswith("libtorch") and isinstance(v, str) and v.startswith("not measured"):
                unmeasured[k] = v

    out = []
    w = out.append
    w("# Performance")
    w("")
    w("Generated by `bash bench/run.sh` (bench/report.py) from one side-by-side run of `softcert_bench`: ")
    w("every lib algorithm, the peers and the memory-bound limits in the same binary. Do not edit by hand.")
    w("Figures are ns per element (lower is faster), the median of the repetitions.")
    w("")
    command = read_text(args.results_dir, "command.txt").strip()
    first = command.splitlines()[0].strip() if command else ""
    if first.startswith("bash bench/run.sh") and first != "bash bench/run.sh":
        w(f"**Partial run** (`{first}`): not the figures of record; `bash bench/run.sh` on a quiet machine "
          "gives them.")
        w("")
    w("## Machine and versions")
    w("")
    w(f"- CPU: {cpu.get('Model name', context.get('cpu_model', '?'))}"
      + (f" (family {cpu['CPU family']}, model {cpu['Model']})" if "CPU family" in cpu and "Model" in cpu else "")
      + f", {context.get('num_cpus', '?')} CPUs, {context.get('mhz_per_cpu', '?')} MHz")
    w(f"- AVX-512: {' '.join(avx512) if avx512 else 'none (no avx512* flag)'}")
    caches = ", ".join(f"L{c['level']} {c['type'].lower()} {c['size'] // 1024} KiB" for c in context.get("caches", []))
    if caches:
        w(f"- Caches (per Google Benchmark): {caches}")
    for name, c in contexts:
        load_avg = c.get("load_avg")
        if load_avg:
            w(f"- Load average when `{name}` started: {', '.join(f'{x:.2f}' for x in load_avg)}"
              + ("  **(machine busy: figures are noisy)**" if load_avg[0] > 1.0 else ""))
    w(f"- Threads in the `threads` case: {context.get('threads_case_threads', '?')}")
    for k in sorted(context):
        if k.startswith(("onednn", "libtorch", "opencv", "xnnpack")):
            w(f"- {k}: {context[k]}")
    packages = read_text(args.results_dir, "packages.txt").strip()
    if packages:
        w(f"- Debian packages: {', '.join(line.strip() for line in packages.splitlines())}")
    if context.get("library_build_type") == "debug":
        w("- Google Benchmark reports its own library as a debug build (Debian's package); it only times.")
    if command:
        w("- Runs:")
        for line in command.splitlines():
            w(f"  - `{line.strip()}`")
    w("")
    w("Implementations: lib " + ", ".join(f"`{i}`" for i in lib) + "; peers " + ", ".join(f"`{i}`" for i in peers)
      + ". What each peer calls is in `bench/README.md`.")
    for k, v in sorted(unmeasured.items()):
        w(f"`{k}`: {v}.")
    w("")

    # Verdicts first, then the tables they come from.
    verdicts = []

    def speed_verdict(function):
        rows, missing = [], []
        for n in DONE_WHEN_N:
            lib_v, lib_i = best("f32", function, lib, "batch", n)
            peer_v, peer_i = best("f32", function, peers, "batch", n)
            if lib_v is None or peer_v is None:
                missing.append(n)
                continue
            rows.append((peer_v / lib_v, n, lib_i, peer_i))
        if not rows:
            return f"NOT MEASURED — f32 {function}: no lib and peer figures on the batch."
        worst = min(rows)
        ok = worst[0] >= SPEEDUP_REQUIRED and not missing
        text = (f"{'PASS' if ok else 'FAIL'} — f32 {function}, best lib ≥ {SPEEDUP_REQUIRED}× faster than the fastest "
                f"peer at every n from 128 to 1M (16M-element batch): worst {worst[0]:.2f}× at n = {worst[1]} "
                f"({worst[2]} vs {worst[3]})")
        if missing:
            text += f"; not measured at n = {', '.join(map(str, missing))}"
        if unmeasured:
            text += "; peer configurations not measured: " + ", ".join(sorted(unmeasured))
        return text + "."

    def memory_verdict(function):
        lim = limit("f32", function, "batch")
        if lim is None:
            return f"NOT MEASURED — f32 {function}: no memory-bound limit in the run."
        rows = []
        for n in DONE_WHEN_N:
            lib_v, lib_i = best("f32", function, lib, "batch", n)
            if lib_v is not None:
                rows.append((lib_v / lim, n, lib_i))
        if not rows:
            return f"NOT MEASURED — f32 {function}: no lib figures on the batch."
        worst = max(rows)
        missing = [n for n in DONE_WHEN_N if n not in {r[1] for r in rows}]
        ok = worst[0] <= MEMORY_RATIO_ALLOWED and not missing
        text = (f"{'PASS' if ok else 'FAIL'} — f32 {function}, best lib within {MEMORY_RATIO_ALLOWED}× of the "
                f"memory-bound limit ({LIMIT_OF[function]}, {fmt(lim)} ns/element) on the 16M-element batch at every n "
                f"from 128 to 1M: worst {worst[0]:.2f}× at n = {worst[1]} ({worst[2]})")
        if missing:
            text += f"; not measured at n = {', '.join(map(str, missing))}"
        return text + "."

    verdicts.append(speed_verdict("softmax"))
    verdicts.append(memory_verdict("softmax"))
    verdicts.append(speed_verdict("log_softmax"))
    verdicts.append(speed_verdict("logsumexp"))
    w("## Verdicts (issue 7, \"Done when\")")
    w("")
    for v in verdicts:
        w(f"- {v}")
    w("- Not measured by this benchmark (other checks decide them): max error ≤ 1 ULP in every regime "
      "(`softcert certify`, docs/accuracy.md); the exhaustive sigmoid run in ≤ 10 minutes; the standard "
      "battery in ≤ 30 s.")
    w("")

    # The f32 sections, then the same tables for f64 (no verdicts: issue 7's are f32).
    for dtype in DTYPES:
        for function in FUNCTIONS:
            write_function(dtype, function)

    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w") as f:
        f.write("\n".join(out))
    print(f"report.py: wrote {args.output}")
    for v in verdicts:
        print("  " + v)


if __name__ == "__main__":
    main()

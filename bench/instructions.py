#!/usr/bin/env python3
"""Instructions per element of softcert_bench's benchmarks, counted by callgrind.

Times on a shared machine move by 20% from one run to the next; instruction counts do not. The
benchmarks the filter selects run under `valgrind --tool=callgrind`, with
SOFTCERT_BENCH_ITERATIONS=k (one timed loop of exactly k iterations each). The counts are zeroed
where Google Benchmark's timed loop starts (benchmark::State::StartKeepRunning) and dumped where it
ends (FinishKeepRunning), so each dump holds one benchmark's k calls and none of the setup, the
input poisoning or the output check. Prints a markdown table: instructions per element, and for
lib's implementations the ratio to the peer that runs the fewest.

A count is not a time: instructions differ in cost (a division, a gather, a conversion), so two
codes with the same count can differ in speed. It tells where a change moved the work, and how
much work a kernel does against another's, independently of the machine's load.

    python3 bench/instructions.py --filter '^f32_(softmax|log_softmax)/[a-z]+/cache/1024/'

Build the binary first (bash bench/run.sh does; or cmake --preset release and
cmake --build --preset release --target softcert_bench).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEERS = ("onednn", "xnnpack", "libtorch", "opencv")
# simd and the peers in cache: lib's scalar references (stable, online, accurate) take minutes
# each under valgrind; name them in --filter to count them too.
DEFAULT_FILTER = (r"^f32_(softmax|log_softmax|logsumexp|sigmoid|softmax_backward)/(simd|onednn|xnnpack|libtorch)/"
                  r"cache/(1024|32768)/")


def dump_total(path):
    with open(path) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise RuntimeError(f"{path}: no summary line")


def count(bench, regex, iterations, workdir):
    """[(name, instructions in its timed loop, elements of one iteration)] in the order they ran."""
    out = os.path.join(workdir, "callgrind.out")
    result = os.path.join(workdir, "result.json")
    env = dict(os.environ, SOFTCERT_BENCH_ITERATIONS=str(iterations), OMP_NUM_THREADS="1")
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
           "--zero-before=benchmark::State::StartKeepRunning*", "--dump-before=benchmark::State::FinishKeepRunning*",
           bench, f"--benchmark_filter={regex}", "--benchmark_repetitions=1",
           f"--benchmark_out={result}", "--benchmark_out_format=json"]
    run = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"valgrind exited {run.returncode}: {run.stderr[-600:]}")
    with open(result) as f:
        entries = [b for b in json.load(f)["benchmarks"] if b.get("run_type") == "iteration"]
    # One dump per timed loop, numbered in the order they ran (the file without a number is the
    # program's end). A benchmark that gave up before its loop would leave none: then the dumps
    # cannot be matched to the names, and nothing is reported.
    dumps = sorted((f for f in os.listdir(workdir) if re.fullmatch(r"callgrind\.out\.\d+", f)),
                   key=lambda f: int(f.rsplit(".", 1)[1]))
    if len(dumps) != len(entries):
        raise RuntimeError(f"{len(dumps)} timed loops for {len(entries)} benchmarks: cannot pair them")
    counted = []
    for entry, dump in zip(entries, dumps):
        name = entry["name"]
        if entry.get("error_occurred"):
            raise RuntimeError(f"{name}: {entry.get('error_message')}")
        if entry["iterations"] != iterations:
            raise RuntimeError(f"{name}: ran {entry['iterations']} iterations, not {iterations}")
        elements = int(entry["rows"]) * int(name.split("/")[3])  # the harness's rows counter, n in the name
        counted.append((name, dump_total(os.path.join(workdir, dump)), elements))
    return counted


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--filter", default=DEFAULT_FILTER,
                        help="Google Benchmark filter (regex) of the benchmarks to count (default: %(default)s)")
    parser.add_argument("--iterations", type=int, default=10, help="iterations of each timed loop")
    parser.add_argument("--bench", default=os.path.join(ROOT, "build/release/bench/softcert_bench"))
    args = parser.parse_args()
    rows = {}  # "function case n" -> {implementation: instructions per element}
    with tempfile.TemporaryDirectory() as workdir:
        for name, instructions, elements in count(args.bench, args.filter, args.iterations, workdir):
            fn, impl, case, n = name.split("/")[:4]
            rows.setdefault(f"{fn} {case} {n}", {})[impl] = instructions / (args.iterations * elements)
    print(f"Instructions per element (callgrind, {args.iterations} calls each, "
          f"`python3 bench/instructions.py --filter '{args.filter}'`):\n")
    print("| benchmark | implementation | instructions per element | / fewest peer |")
    print("|---|---|---:|---:|")
    for key, impls in rows.items():
        peers = {i: v for i, v in impls.items() if i in PEERS}
        fewest = min(peers.values()) if peers else None
        for impl, v in sorted(impls.items(), key=lambda kv: kv[1]):
            ratio = f"{v / fewest:.2f}" if fewest and impl not in PEERS else ""
            print(f"| {key} | {impl} | {v:.3f} | {ratio} |")


if __name__ == "__main__":
    main()

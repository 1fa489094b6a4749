#!/usr/bin/env python3
"""`softcert certify --shard K/N` for K = 1..N, then `softcert merge`: the merged report must
have the unsharded run's verdict and exactly its checks (function, type, check, status, cases),
and the shards must be disjoint.

    shard_merge.py SOFTCERT BUILTIN N
"""
import collections
import json
import os
import subprocess
import sys
import tempfile


def main():
    softcert, builtin, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    base = [softcert, "certify", "--builtin", builtin, "--battery", "smoke", "--seed", "7"]
    key = lambda c: (c["function"], c["dtype"], c["check"], c["status"], c["cases"])
    with tempfile.TemporaryDirectory() as tmp:
        whole = os.path.join(tmp, "whole.json")
        subprocess.run(base + ["--json", whole], capture_output=True, check=False, timeout=600)
        shards = []
        for k in range(1, n + 1):
            path = os.path.join(tmp, f"shard{k}.json")
            subprocess.run(base + ["--shard", f"{k}/{n}", "--json", path], capture_output=True, timeout=600)
            shards.append(path)
        merged = os.path.join(tmp, "merged.json")
        run = subprocess.run([softcert, "merge", *shards, "--json", merged], capture_output=True, text=True, timeout=600)
        reports = {p: json.load(open(p)) for p in [whole, merged, *shards]}
    a, b = reports[whole], reports[merged]
    per_shard = [collections.Counter(map(key, reports[p]["checks"])) for p in shards]
    union = sum(per_shard, collections.Counter())
    ok = (a["verdict"] == b["verdict"] and collections.Counter(map(key, a["checks"])) == collections.Counter(map(key, b["checks"]))
          and union == collections.Counter(map(key, a["checks"])) and all(len(s) > 0 for s in per_shard)
          and run.returncode == (0 if a["verdict"] == "pass" else 1))
    print(f"{builtin}: unsharded {len(a['checks'])} checks, {a['verdict']}; shards {[sum(s.values()) for s in per_shard]}; "
          f"merged {len(b['checks'])} checks, {b['verdict']} (merge exit {run.returncode})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

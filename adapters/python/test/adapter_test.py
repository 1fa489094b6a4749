#!/usr/bin/env python3
"""The test of a Python adapter (adapters/python/<framework>_adapter.py), standard library only:

    adapter_test.py FRAMEWORK SOFTCERT VENV REPORT.json

1. Finds an interpreter that imports the framework: VENV/bin/python3 (ci/certify-third-party.sh's
   virtual environment), then Debian's /usr/bin/python3, then this one. None: exit 77, which
   ctest reports as skipped (SKIP_RETURN_CODE).
2. Proves the adapter calls the framework: it speaks softcert-exec/1 to the adapter and pins a
   behaviour of the framework that softcert's own lib does not share (lib's softmax of a row of
   only -inf is all +0; most frameworks give NaN), and that the handshake names the framework.
3. Certifies the adapter with the smoke battery and compares the failing checks with
   adapters/python/<framework>_adapter.smoke-failures.txt ("function dtype check" per line, '#'
   comments): a check failing that is not listed, or listed and passing, fails the test.
"""
import json
import math
import os
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ADAPTERS = os.path.dirname(HERE)
ROOT = os.path.dirname(os.path.dirname(ADAPTERS))
sys.path.insert(0, os.path.join(ROOT, "adapters", "test"))
from smoke_failures import certify_and_compare  # noqa: E402  the one smoke-list comparison
SKIP = 77
MODULES = {"scipy": "scipy.special", "torch": "torch", "jax": "jax", "onnxruntime": "onnxruntime, onnx",
           "tensorflow": "tensorflow"}
FUNCTIONS = ["softmax", "log_softmax", "logsumexp", "softmax_temperature", "sigmoid", "cross_entropy",
             "cross_entropy_grad", "softmax_backward", "masked_softmax", "attention"]
DTYPES = ["f32", "f64", "f16", "bf16"]
NAN = math.nan
INF = math.inf


def interpreter(framework, venv):
    for candidate in (os.path.join(venv, "bin", "python3"), "/usr/bin/python3", sys.executable):
        if os.path.exists(candidate) and subprocess.run([candidate, "-c", f"import {MODULES[framework]}"],
                                                        capture_output=True, timeout=300).returncode == 0:
            return candidate
    return None


class Client:
    """softcert's side of softcert-exec/1, just enough for f64 calls."""

    def __init__(self, command):
        self.p = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT)
        self.p.stdin.write(b"SCX1" + struct.pack("<I", 1))
        self.p.stdin.flush()
        tag = self.read(4)
        if tag != b"SCX1":
            raise RuntimeError(f"handshake refused: {self.read(struct.unpack('<I', self.read(4))[0])!r}")
        self.read(4)
        self.name = self.read(struct.unpack("<I", self.read(4))[0]).decode()
        (k,) = struct.unpack("<I", self.read(4))
        pairs = self.read(2 * k)
        self.kernels = {(FUNCTIONS[pairs[2 * i]], DTYPES[pairs[2 * i + 1]]) for i in range(k)}

    def read(self, n):
        data = self.p.stdout.read(n)
        if len(data) != n:
            raise RuntimeError("the adapter closed its output")
        return data

    def call(self, function, rows, n, x, keep=None):
        """One f64 call; returns (status, outputs)."""
        msg = b"CALL" + bytes([FUNCTIONS.index(function), 1, 0, 0]) + struct.pack("<4Qd", rows, n, 0, 0, 1.0)
        msg += struct.pack(f"<{len(x)}d", *x)
        if keep is not None:
            msg += bytes(keep)
        self.p.stdin.write(msg)
        self.p.stdin.flush()
        assert self.read(4) == b"DONE"
        status, note = struct.unpack("<iI", self.read(8))
        self.read(note)
        count = rows if function in ("logsumexp", "cross_entropy") else rows * n
        return status, list(struct.unpack(f"<{count}d", self.read(8 * count))) if status == 0 else None

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=60)


def same(got, want):
    return len(got) == len(want) and all((math.isnan(g) and math.isnan(w)) or g == w for g, w in zip(got, want))


def pins(framework):
    """(description, function, rows, n, x, keep, expected output): behaviours of the framework
    itself. softcert's lib (lib/README.md) gives all +0 for softmax of a row of only -inf, the
    DESIGN.md §2 limits for +inf rows, and never NaN for a masked row."""
    minus = [-INF, -INF, -INF]
    if framework == "scipy":
        return [("scipy.special.softmax of a row of only -inf is all NaN (x - max(x) = -inf - -inf)",
                 "softmax", 1, 3, minus, None, [NAN] * 3),
                ("scipy.special.log_softmax of [inf, 0] is [nan, -inf] (neither the limit nor all NaN)",
                 "log_softmax", 1, 2, [INF, 0.0], None, [NAN, -INF])]
    if framework == "torch":
        return [("torch.softmax of a row of only -inf is all NaN", "softmax", 1, 3, minus, None, [NAN] * 3),
                ("masked_fill(-inf) then softmax, nothing kept: all NaN", "masked_softmax", 1, 3,
                 [1.0, 2.0, 3.0], [0, 0, 0], [NAN] * 3)]
    if framework == "jax":
        return [("jax.nn.softmax of a row of only -inf is all NaN", "softmax", 1, 3, minus, None, [NAN] * 3),
                ("jax.nn.softmax(where=) with nothing kept is all 0", "masked_softmax", 1, 3, [1.0, 2.0, 3.0], [0, 0, 0],
                 [0.0] * 3)]
    if framework == "onnxruntime":
        return [("ONNX Runtime Softmax of a row of only -inf is all NaN", "softmax", 1, 3, minus, None, [NAN] * 3)]
    if framework == "tensorflow":
        return [("tf.nn.softmax of a row of only -inf is all NaN", "softmax", 1, 3, minus, None, [NAN] * 3)]
    raise ValueError(framework)


NAMES = {"scipy": "SciPy", "torch": "PyTorch", "jax": "JAX", "onnxruntime": "ONNX Runtime", "tensorflow": "TensorFlow"}


def main():
    framework, softcert, venv, report = sys.argv[1:5]
    python = interpreter(framework, venv)
    if python is None:
        print(f"{framework} is not importable by {venv}/bin/python3, /usr/bin/python3 or {sys.executable}: skipped")
        return SKIP
    adapter = os.path.join(ADAPTERS, f"{framework}_adapter.py")
    ok = True

    client = Client([python, adapter])
    print(f"{python}: {client.name}; {len(client.kernels)} kernels")
    if not client.name.startswith(NAMES[framework] + " "):
        print(f"the handshake names {client.name!r}, not {NAMES[framework]}")
        ok = False
    for what, function, rows, n, x, keep, want in pins(framework):
        status, got = client.call(function, rows, n, x, keep)
        if status != 0 or not same(got, want):
            print(f"FAIL {what}: got status {status}, {got}")
            ok = False
        else:
            print(f"ok   {what}")
    client.close()

    expected = os.path.join(ADAPTERS, f"{framework}_adapter.smoke-failures.txt")
    target = ["--exec", f"{python} {adapter}", "--call-timeout", "120"]
    ok &= certify_and_compare(softcert, expected, report, target, cwd=ROOT)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

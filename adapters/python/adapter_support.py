"""What the Python adapters share: softcert-exec/1 (certify/python/softcert_exec.py, imported by
path, not copied), a refusal at the handshake when the framework is missing, the conversions
between the protocol's Python lists and numpy arrays, and the probe that keeps only the kernels a
framework really runs.

An adapter builds a dict {(function, dtype): kernel} of calls into its framework's public API and
hands it to `serve`. Each kernel is probed once on a small row before the handshake: a kernel the
framework cannot run (an operator not implemented for that type, say) is not offered, so the
certifier reports it "skipped" rather than a failure of the framework.
"""
import math
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "certify", "python"))
import softcert_exec  # noqa: E402

OK, ERR_EMPTY, ERR_LABEL, ERR_TEMPERATURE, ERR_SIZE, ERR_UNSUPPORTED = 0, 2, 3, 4, 5, 6


def refuse(why):
    """Answers softcert's handshake with FAIL and the reason (softcert then exits 2 with it)."""
    src, dst = sys.stdin.buffer, sys.stdout.buffer
    src.read(8)  # SCX1, version
    encoded = why.encode()
    dst.write(b"FAIL" + struct.pack("<I", len(encoded)) + encoded)
    dst.flush()
    sys.exit(0)


def import_or_refuse(name):
    """The module, or a refusal naming what is missing."""
    import importlib
    try:
        return importlib.import_module(name)
    except Exception as e:  # noqa: BLE001 - any import failure means the framework is not usable here
        refuse(f"{name} is not importable with {sys.executable}: {type(e).__name__}: {e}")


def rows_kernel(fn, np_dtype, per_row_output=False):
    """A kernel for the row functions (x, rows, n): fn gets a (rows, n) numpy array of np_dtype
    and returns an array of rows × n (or rows values when per_row_output)."""
    import numpy as np

    def kernel(x, rows, n, *extra):
        if rows == 0 or n == 0:
            return ERR_EMPTY, None
        a = np.array(x, dtype=np_dtype).reshape(rows, n)
        return OK, to_list(fn(a, *extra))
    return kernel


def keep_mask(keep, rows, n):
    """masked_softmax's keep bytes (rows × n, nonzero = kept) as a (rows, n) numpy bool array."""
    import numpy as np
    return np.frombuffer(bytes(keep), dtype=np.uint8).reshape(rows, n) != 0


def to_list(out):
    """Flat Python floats from an array or tensor-like already converted to numpy."""
    import numpy as np
    return np.asarray(out).reshape(-1).astype(np.float64).tolist()


def _probe_args(function, dtype):
    row = [0.5, -1.0, 2.0, 0.25]
    if function in ("softmax", "log_softmax", "logsumexp"):
        return (row * 2, 2, 4)
    if function == "softmax_temperature":
        return (row * 2, 2, 4, 2.0)
    if function == "sigmoid":
        return (row, 4)
    if function in ("cross_entropy", "cross_entropy_grad"):
        return (row * 2, [1, 3], 2, 4)
    if function == "softmax_backward":
        return ([0.25] * 8, row * 2, 2, 4)
    if function == "masked_softmax":
        return (row * 2, bytes([1, 0, 1, 1, 0, 0, 0, 0]), 2, 4)
    if function == "attention":
        return (row * 2, row * 3, row * 3, 2, 3, 4, 4, 1)
    raise ValueError(function)


def serve(name, kernels):
    """Probes every kernel, reports the ones dropped on stderr, serves the rest."""
    offered = {}
    for (function, dtype), kernel in kernels.items():
        try:
            status, out = kernel(*_probe_args(function, dtype))
            if status != OK or out is None or not all(isinstance(v, float) for v in out):
                raise RuntimeError(f"status {status}")
            if not any(math.isfinite(v) for v in out):
                raise RuntimeError("no finite output on a finite probe")
            offered[(function, dtype)] = kernel
        except Exception as e:  # noqa: BLE001 - the framework cannot run it: not offered
            print(f"{name}: not offering {function} {dtype}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}",
                  file=sys.stderr)
    softcert_exec.serve(name, offered)

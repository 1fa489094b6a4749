"""softcert-exec/1, the implementation side, in the Python standard library only.

An implementation in any language is certified with `softcert certify --exec "COMMAND"`: softcert
starts COMMAND and speaks this protocol over its stdin and stdout (docs/exec-protocol.md is the
specification). This module is the reference for Python: give `serve` a name and a dict of
kernels and it answers until softcert closes stdin.

    kernels = {("softmax", "f32"): my_softmax, ...}
    serve("my-library 1.2", kernels)

A kernel takes the call's arguments as Python values (lists of floats, ints for labels, bytes-like
keep masks, sizes as ints, exactly the ABI's argument order without the output pointer) and
returns (status, outputs): status 0 and a list of floats, or an ABI status code (abi.h) and None
to decline. f32 outputs are rounded to float32 when they are sent. The f16 and bf16 kernels
(softmax and log_softmax only) get and return Python floats too: this module decodes the binary16
/ bfloat16 bit patterns on the wire and rounds outputs to nearest-even in the format when it sends
them. Do not print to stdout: it is the protocol channel (stderr is free).
"""
import math
import struct
import sys
from array import array

VERSION = 1
FUNCTIONS = ["softmax", "log_softmax", "logsumexp", "softmax_temperature", "sigmoid", "cross_entropy",
             "cross_entropy_grad", "softmax_backward", "masked_softmax", "attention"]
DTYPES = ["f32", "f64", "f16", "bf16"]
# The reduced formats: significand bits (hidden bit included), exponent of the smallest normal,
# exponent field width.
_REDUCED = {"f16": (11, -14, 5), "bf16": (8, -126, 8)}
ERR_SIZE = 5
ERR_UNSUPPORTED = 6


class ProtocolError(Exception):
    pass


def _read(stream, n):
    data = bytearray()
    while len(data) < n:
        chunk = stream.read(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return bytes(data)


def _inputs(function, dtype, a, b, c, d):
    """(count, kind) of each input array, in ABI order; kind is the dtype, 'i64' or 'u8'."""
    rows_n = a * b
    if function in ("softmax", "log_softmax", "logsumexp", "softmax_temperature"):
        return [(rows_n, dtype)]
    if function == "sigmoid":
        return [(a, dtype)]
    if function in ("cross_entropy", "cross_entropy_grad"):
        return [(rows_n, dtype), (a, "i64")]
    if function == "softmax_backward":
        return [(rows_n, dtype), (rows_n, dtype)]
    if function == "masked_softmax":
        return [(rows_n, dtype), (rows_n, "u8")]
    if function == "attention":
        return [(a * c, dtype), (b * c, dtype), (b * d, dtype)]
    raise ProtocolError(f"unknown function {function}")


def _output_count(function, a, b, c, d):
    if function in ("logsumexp", "cross_entropy", "sigmoid"):
        return a
    if function == "attention":
        return a * d
    return a * b


_CODES = {"f32": "f", "f64": "d", "f16": "H", "bf16": "H", "i64": "q", "u8": "B"}


def decode(bits, dtype):
    """The value of a binary16 / bfloat16 bit pattern, as a Python float (exact)."""
    p, emin, ebits = _REDUCED[dtype]
    sign = -1.0 if bits & 0x8000 else 1.0
    biased, mantissa = (bits >> (p - 1)) & ((1 << ebits) - 1), bits & ((1 << (p - 1)) - 1)
    if biased == (1 << ebits) - 1:
        return math.copysign(math.nan, sign) if mantissa else sign * math.inf
    if biased == 0:
        return sign * math.ldexp(mantissa, emin - (p - 1))
    return sign * math.ldexp(mantissa | (1 << (p - 1)), biased - 1 + emin - (p - 1))


def encode(x, dtype):
    """x rounded to nearest-even in binary16 / bfloat16 (gradual underflow, overflow to inf)."""
    p, emin, ebits = _REDUCED[dtype]
    sign = 0x8000 if math.copysign(1.0, x) < 0 else 0
    inf = ((1 << ebits) - 1) << (p - 1)
    if math.isnan(x):
        return sign | inf | (1 << (p - 2))
    a = abs(x)
    if a == 0:
        return sign
    if math.isinf(a):
        return sign | inf
    e = max(math.frexp(a)[1] - 1, emin)
    m = round(math.ldexp(a, p - 1 - e))  # exact scaling; round() is nearest-even
    if m == 1 << p:
        m, e = m >> 1, e + 1
    if e > emin + (1 << ebits) - 3:  # beyond the largest binade
        return sign | inf
    if m < 1 << (p - 1):
        return sign | m  # subnormal
    return sign | ((e - emin + 1) << (p - 1)) | (m - (1 << (p - 1)))


def serve(name, kernels, stdin=None, stdout=None):
    """Answers softcert's calls with `kernels` until stdin closes."""
    src = stdin or sys.stdin.buffer
    dst = stdout or sys.stdout.buffer
    tag = _read(src, 4)
    (version,) = struct.unpack("<I", _read(src, 4))
    if tag != b"SCX1":
        raise ProtocolError("no HELLO")
    if version != VERSION:
        why = f"this client speaks softcert-exec/{VERSION}".encode()
        dst.write(b"FAIL" + struct.pack("<I", len(why)) + why)
        dst.flush()
        return
    offered = [(FUNCTIONS.index(f), DTYPES.index(t)) for (f, t) in kernels]
    encoded = name.encode()[:256]
    dst.write(b"SCX1" + struct.pack("<II", VERSION, len(encoded)) + encoded + struct.pack("<I", len(offered)))
    dst.write(bytes(x for pair in offered for x in pair))
    dst.flush()
    while True:
        try:
            tag = _read(src, 4)
        except EOFError:
            return
        if tag != b"CALL":
            raise ProtocolError(f"unexpected message {tag!r}")
        function_id, dtype_id, causal, _ = _read(src, 4)
        a, b, c, d = struct.unpack("<4Q", _read(src, 32))
        (t,) = struct.unpack("<d", _read(src, 8))
        function, dtype = FUNCTIONS[function_id], DTYPES[dtype_id]
        args = []
        for count, kind in _inputs(function, dtype, a, b, c, d):
            values = array(_CODES[kind])
            values.frombytes(_read(src, count * values.itemsize))
            if kind in _REDUCED:
                args.append([decode(v, kind) for v in values])
            else:
                args.append(values.tolist() if kind != "u8" else bytes(values))
        kernel = kernels.get((function, dtype))
        if kernel is None:
            status, out = ERR_UNSUPPORTED, None
        else:
            sizes = {"sigmoid": (a,), "attention": (a, b, c, d, causal)}.get(function, (a, b))
            extra = (t,) if function == "softmax_temperature" else ()
            status, out = kernel(*args, *sizes, *extra)
        dst.write(b"DONE" + struct.pack("<iI", status, 0))
        if status == 0:
            values = array(_CODES[dtype], [encode(v, dtype) for v in out] if dtype in _REDUCED else out)
            if len(values) != _output_count(function, a, b, c, d):
                raise ProtocolError(f"{function} returned {len(values)} values")
            dst.write(values.tobytes())
        dst.flush()

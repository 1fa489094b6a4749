#!/usr/bin/env python3
"""The reference softcert-exec/1 client: every function of DESIGN.md §2 in f32 and f64 (softmax and
log_softmax in f16 and bf16 too), in pure
Python (standard library only), with DESIGN.md §2's special values (strict profile).

    softcert certify --exec "python3 certify/python/reference_client.py" --battery standard

It shows how a Python implementation is certified, and its results are the protocol's test.
The algorithm is the textbook one in Python floats (IEEE double): subtract the row max,
exponentiate, sum with math.fsum (correctly rounded), normalise; f32 results are rounded to
float32 once when sent. log_softmax is (z - m) - log(sum), so near the dominant entry it has the
standard algorithm's absolute error, not a relative one.
"""
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import softcert_exec  # noqa: E402

INF, NAN = math.inf, math.nan
ERR_EMPTY, ERR_LABEL, ERR_TEMPERATURE = 2, 3, 4


def fsum(values):
    """math.fsum, correctly rounded; where it gives up (an intermediate overflow, inf - inf) the
    IEEE sum, whose inf or NaN is then the honest answer."""
    values = list(values)
    try:
        return math.fsum(values)
    except (OverflowError, ValueError):
        return sum(values)


def rows_of(x, rows, n):
    return [x[r * n:(r + 1) * n] for r in range(rows)]


def special(z):
    """'nan', 'posinf' (with the +inf count), 'neginf' (only -inf) or None for a regular row."""
    if any(math.isnan(v) for v in z):
        return "nan", 0
    k = sum(1 for v in z if v == INF)
    if k:
        return "posinf", k
    if all(v == -INF for v in z):
        return "neginf", 0
    return None, 0


def softmax_row(z, t=1.0):
    kind, k = special(z)
    if kind == "nan":
        return [NAN] * len(z)
    if kind == "posinf":
        return [1.0 / k if v == INF else 0.0 for v in z]
    if kind == "neginf":
        return [0.0] * len(z)
    m = max(z)
    e = [math.exp((v - m) / t) for v in z]
    s = fsum(e)
    return [v / s for v in e]


def lse_row(z):
    kind, k = special(z)
    if kind == "nan":
        return NAN
    if kind == "posinf":
        return INF
    if kind == "neginf":
        return -INF
    m = max(z)
    return m + math.log(fsum(math.exp(v - m) for v in z))


def log_softmax_row(z):
    kind, k = special(z)
    if kind == "nan":
        return [NAN] * len(z)
    if kind == "posinf":
        return [-math.log(k) if v == INF else -INF for v in z]
    if kind == "neginf":
        return [-INF] * len(z)
    m = max(z)
    log_sum = math.log(fsum(math.exp(v - m) for v in z))
    return [(v - m) - log_sum for v in z]


def per_row(fn, flat):
    def kernel(x, rows, n, *extra):
        if rows == 0 or n == 0:
            return ERR_EMPTY, None
        out = []
        for z in rows_of(x, rows, n):
            r = fn(z, *extra)
            out.extend(r if isinstance(r, list) else [r])
        return 0, out
    return kernel


def softmax_temperature(x, rows, n, t):
    if not (math.isfinite(t) and t > 0):
        return ERR_TEMPERATURE, None
    return per_row(lambda z: softmax_row(z, t), True)(x, rows, n)


def sigmoid(x, count):
    if count == 0:
        return ERR_EMPTY, None
    out = []
    for v in x:
        if math.isnan(v):
            out.append(NAN)
        elif v >= 0:
            out.append(1.0 / (1.0 + math.exp(-v)))
        else:
            e = math.exp(v)
            out.append(e / (1.0 + e))
    return 0, out


def labelled(fn):
    def kernel(z, labels, rows, n):
        if rows == 0 or n == 0:
            return ERR_EMPTY, None
        if any(not 0 <= y < n for y in labels):
            return ERR_LABEL, None
        out = []
        for row, y in zip(rows_of(z, rows, n), labels):
            r = fn(row, y)
            out.extend(r if isinstance(r, list) else [r])
        return 0, out
    return kernel


def cross_entropy_row(z, y):
    kind, k = special(z)
    if kind == "nan":
        return NAN
    if kind == "posinf":
        return math.log(k) if z[y] == INF else INF
    if kind == "neginf" or z[y] == -INF:
        return INF
    return lse_row(z) - z[y]


def cross_entropy_grad_row(z, y):
    p = softmax_row(z)
    p[y] -= 1.0
    return p


def softmax_backward(y, dy, rows, n):
    if rows == 0 or n == 0:
        return ERR_EMPTY, None
    out = []
    for r in range(rows):
        yr, dyr = y[r * n:(r + 1) * n], dy[r * n:(r + 1) * n]
        s = fsum(a * b for a, b in zip(yr, dyr))
        out.extend(a * (b - s) for a, b in zip(yr, dyr))
    return 0, out


def masked_softmax(x, keep, rows, n):
    if rows == 0 or n == 0:
        return ERR_EMPTY, None
    out = []
    for r in range(rows):
        z, kept = x[r * n:(r + 1) * n], keep[r * n:(r + 1) * n]
        attended = [v for v, k in zip(z, kept) if k]
        p = iter(softmax_row(attended) if attended else [])
        out.extend(next(p) if k else 0.0 for k in kept)
    return 0, out


def attention(q, k, v, lq, lk, d, dv, causal):
    if 0 in (lq, lk, d, dv):
        return ERR_EMPTY, None
    out = []
    for i in range(lq):
        keys = min(i + 1, lk) if causal else lk
        qi = q[i * d:(i + 1) * d]
        reads = qi + k[:keys * d] + v[:keys * dv]
        if not all(math.isfinite(x) for x in reads):
            out.extend([NAN] * dv)
            continue
        scores = [fsum(a * b for a, b in zip(qi, k[j * d:(j + 1) * d])) / math.sqrt(d) for j in range(keys)]
        w = softmax_row(scores)
        out.extend(fsum(w[j] * v[j * dv + c] for j in range(keys)) for c in range(dv))
    return 0, out


KERNELS = {
    "softmax": per_row(softmax_row, True),
    "log_softmax": per_row(log_softmax_row, True),
    "logsumexp": per_row(lse_row, False),
    "softmax_temperature": softmax_temperature,
    "sigmoid": sigmoid,
    "cross_entropy": labelled(cross_entropy_row),
    "cross_entropy_grad": labelled(cross_entropy_grad_row),
    "softmax_backward": softmax_backward,
    "masked_softmax": masked_softmax,
    "attention": attention,
}

if __name__ == "__main__":
    kernels = {(f, t): k for f, k in KERNELS.items() for t in ("f32", "f64")}
    # The ABI has softmax and log_softmax in binary16 and bfloat16 too: computed in double,
    # rounded once to the format by softcert_exec.
    kernels.update({(f, t): KERNELS[f] for f in ("softmax", "log_softmax") for t in ("f16", "bf16")})
    softcert_exec.serve("python-reference", kernels)

#!/usr/bin/env python3
"""Independent reference table for the softcert oracle.

Writes oracle/testdata/reference_table.jsonl: one JSON object per line, each a function of
DESIGN.md section 2 (strict profile) on exact float32/float64 inputs, with the exact real result
correctly rounded (nearest-even, gradual underflow, overflow to +-inf) to the input's type.
After those, softmax and log_softmax in the reduced formats of the plugin ABI: dtype "f16" (IEEE
binary16: p = 11, normals from 2^-14, max 65504, subnormals down to 2^-24) and "bf16" (bfloat16:
p = 8, the exponent range of binary32, subnormals down to 2^-133), inputs values of the format and
results rounded to it (written as the float/double they equal).  They come from their own random
stream (SEED + 16), so the float32/float64 lines are unchanged by them.
oracle/test/reference_table_test.cc checks that the C++ oracle agrees bit for bit.

Run (from anywhere; only the standard library and mpmath are used):

    python3 oracle/tools/make_reference_table.py            # writes the table, prints a summary
    python3 oracle/tools/make_reference_table.py --check    # regenerates in memory, compares

The output is deterministic (random.Random(SEED)) and byte-for-byte identical on every run.

How the values are computed -- independently of the C++ oracle, which uses interval
arithmetic over MPFR:

* Inputs are exact dyadic rationals (fractions.Fraction of the float).  Every shift
  z_i - max(z), every z/t, every dot product q.k and every softmax_backward value is exact
  rational arithmetic.

* Each output of the exp family is written in one of two closed forms over the exponentials
  of the distinct shifted arguments u_k <= 0 (u_k / sqrt(d) for attention):
      ratio form  N / D = sum_k a_k e^{u_k} / sum_k b_k e^{u_k}   (softmax, grad, sigmoid,
                                                                    masked, temperature, attention)
      log form    c + s * log1p(sum_k b_k e^{u_k})                (logsumexp, log_softmax,
                                                                    cross_entropy)
  with exact rational coefficients.  By Lindemann-Weierstrass, a ratio is rational iff
  a_k = r b_k for all k (then the value is r, rounded exactly), and a log form is rational
  iff its log1p argument is 0 (then the value is c).  Every other value is irrational, so it is
  never a tie and never representable, and a Ziv loop decides its rounding: evaluate with
  mpmath at working precision P (arguments converted with enough extra bits for their
  magnitude), bound the error generously (2^-(P-8) relative per term, cancellation accounted
  for through sum |a_k| e^{u_k}), round both ends of the enclosure; if they differ double P.
  The decided value is then recomputed at precision 2P+256 and must round identically
  (assertion).

* Rounding to binary32/binary64/binary16/bfloat16 is done here on exact integers
  (mantissa/exponent of the mpf or numerator/denominator of the Fraction): nearest-even,
  subnormal quantum 2^-149 / 2^-1074 / 2^-24 / 2^-133, and +-inf when the value rounded with
  unbounded exponent exceeds the format's largest finite value.  Neither float(mpf) nor struct
  is trusted for it (they are only used in the self-check, as a cross-check of the rounding
  routine: struct's 'e' for binary16, round-to-nearest-even on float32 bits for bfloat16).

* Special values follow oracle/include/softcert/oracle.hpp (strict profile).  An exact zero
  result is +0; a nonzero result that rounds to zero keeps its sign.

Before writing, the script runs a self-check (hand-verifiable values and the rounding routine
against CPython's correctly rounded int division and the C float cast) and asserts it.
"""

import json
import math
import os
import random
import struct
import sys
import time
from collections import Counter, defaultdict
from fractions import Fraction

import mpmath
from mpmath import mp, mpf

SEED = 20240917
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "testdata", "reference_table.jsonl"))

INF = float("inf")
NAN = float("nan")

# precision p, emin (exponent of the smallest normal), emax
FMT = {"f32": (24, -126, 127), "f64": (53, -1022, 1023),
       "f16": (11, -14, 15),      # IEEE binary16
       "bf16": (8, -126, 127)}    # bfloat16: the exponent range of binary32
FLT_MAX = math.ldexp(2.0**24 - 1, 104)
DBL_MAX = sys.float_info.max
MAXV = {"f32": FLT_MAX, "f64": DBL_MAX,
        "f16": math.ldexp(2.0**11 - 1, 5),     # 65504
        "bf16": math.ldexp(2.0**8 - 1, 120)}   # 0x1.fep127
MINSUB = {"f32": math.ldexp(1.0, -149), "f64": math.ldexp(1.0, -1074),
          "f16": math.ldexp(1.0, -24), "bf16": math.ldexp(1.0, -133)}


# ----------------------------------------------------------------------------------------------
# Correct rounding on exact integers


def _round_scaled(neg, man, exp, dt):
    """Round (-1)^neg * man * 2^exp (man > 0 int) to dt, nearest-even, gradual underflow."""
    p, emin, emax = FMT[dt]
    qmin = emin - p + 1  # exponent of the smallest subnormal
    qmax = emax - p + 1  # exponent of the ulp of the largest binade
    E = exp + man.bit_length() - 1  # 2^E <= |v| < 2^(E+1)
    if E >= emax + 1:
        return -INF if neg else INF
    if E <= qmin - 2:  # |v| < 2^(qmin-1), half the smallest subnormal
        return -0.0 if neg else 0.0
    q = max(E - p + 1, qmin)
    shift = exp - q
    if shift >= 0:
        N = man << shift
    else:
        s = -shift
        N = man >> s
        rem = man - (N << s)
        half = 1 << (s - 1)
        if rem > half or (rem == half and (N & 1)):
            N += 1
    if N == 0:
        return -0.0 if neg else 0.0
    if q >= qmax and (N << (q - qmax)) > (1 << p) - 1:
        return -INF if neg else INF
    v = math.ldexp(float(N), q)  # N <= 2^p: exact
    return -v if neg else v


def round_fraction(x, dt):
    """Correctly round an exact rational (Fraction); an exact zero gives +0."""
    x = Fraction(x)
    if x == 0:
        return 0.0
    neg = x < 0
    a, b = abs(x.numerator), x.denominator
    p, emin, emax = FMT[dt]
    qmin = emin - p + 1
    E = a.bit_length() - b.bit_length()
    if (a << max(0, -E)) < (b << max(0, E)):
        E -= 1
    if E >= emax + 1:
        return -INF if neg else INF
    if E <= qmin - 2:
        return -0.0 if neg else 0.0
    q = max(E - p + 1, qmin)
    # N = round(a / (b 2^q)); carry the quotient to 2 extra bits plus a sticky bit
    if q >= 0:
        num, den = a, b << q
    else:
        num, den = a << (-q), b
    N, rem = divmod(num, den)
    if 2 * rem > den or (2 * rem == den and (N & 1)):
        N += 1
    # Reuse the dyadic path for overflow and normalisation (N * 2^q is exact).
    if N == 0:
        return -0.0 if neg else 0.0
    return _round_scaled(neg, N, q, dt)


def round_mpf(x, dt):
    """Correctly round a finite mpf (its exact binary value) to dt."""
    sign, man, exp, bc = x._mpf_
    if man == 0:
        if x._mpf_ != mpmath.libmp.fzero and x._mpf_ != mpmath.libmp.fnzero:
            raise ValueError("non-finite mpf %r" % (x,))
        return -0.0 if sign else 0.0
    return _round_scaled(bool(sign), int(man), int(exp), dt)


def bits(v):
    return struct.pack("<d", v)


def in_dtype(v, dt):
    if math.isnan(v) or math.isinf(v) or v == 0:
        return True
    return bits(round_fraction(Fraction(v), dt)) == bits(v)


def fl(x, dt):
    """A Python float/Fraction rounded to dt (must be finite)."""
    if isinstance(x, float) and (math.isinf(x) or math.isnan(x)):
        return x
    v = round_fraction(Fraction(x), dt)
    if math.copysign(1.0, x) < 0 and v == 0:
        v = -0.0
    return v


# ----------------------------------------------------------------------------------------------
# Exact evaluation

P0 = 192
PMAX = 1 << 17
STATS = Counter()


def to_mpf(f, prec):
    """Fraction -> mpf with relative error <= 2^-prec."""
    return mpmath.fdiv(f.numerator, f.denominator, prec=prec)


def dyadic_mpf(f):
    """A dyadic Fraction as an exact mpf."""
    den = f.denominator
    assert den & (den - 1) == 0
    return mpmath.mpf(mpmath.libmp.from_man_exp(f.numerator, 1 - den.bit_length()))


def log2_mag(f):
    """An upper bound of log2 |f| (0 for |f| < 1)."""
    f = abs(f)
    if f < 1:
        return 0
    return f.numerator.bit_length() - f.denominator.bit_length() + 1


_exp_cache = {}


def exp_arg(u, root, P):
    """exp(u / sqrt(root)) at precision P, u an exact Fraction (<= 0 here)."""
    key = (u, root, P)
    r = _exp_cache.get(key)
    if r is not None:
        return r
    if u == 0:
        r = mpf(1)
    else:
        Q = P + log2_mag(u) + 40
        a = to_mpf(u, Q)
        if root != 1:
            a = mpmath.fdiv(a, mpmath.sqrt(mpf(root), prec=Q), prec=Q)
        with mp.workprec(P):
            r = mpmath.exp(a)
    _exp_cache[key] = r
    return r


def _decide(lo, hi, dt):
    a = round_mpf(lo, dt)
    b = round_mpf(hi, dt)
    return a if bits(a) == bits(b) else None


def _ratio_at(N, D, root, dt, P):
    with mp.workprec(P):
        eps = mpf(2) ** (8 - P)
        E = {k: exp_arg(k, root, P) for k in D}
        tn = [to_mpf(a, P) * E[k] for k, a in N.items()]
        Nv = mpmath.fsum(tn)
        M = mpmath.fsum([abs(t) for t in tn])
        Dv = mpmath.fsum([to_mpf(b, P) * E[k] for k, b in D.items()])
        r = Nv / Dv
        err = 2 * (eps * M + abs(r) * eps * Dv) / Dv + abs(r) * mpf(2) ** (2 - P)
    lo = mpmath.fsub(r, err, exact=True)
    hi = mpmath.fadd(r, err, exact=True)
    return _decide(lo, hi, dt)


def _log_at(c, s, T, root, dt, P):
    with mp.workprec(P):
        eps = mpf(2) ** (8 - P)
        Tv = mpmath.fsum([to_mpf(b, P) * exp_arg(k, root, P) for k, b in T.items()])
        L = mpmath.log1p(Tv)
        err = 2 * (abs(L) * eps + eps * Tv / (1 + Tv))
    # c is dyadic: it and the sum are exact, so only the error of L counts (a huge c plus a
    # tiny L, e.g. an exact overflow threshold plus e^-3e38, is decided).
    cv = dyadic_mpf(c)
    Lhi = mpmath.fadd(L, err, exact=True)
    G = FMT[dt][0] + 64
    if c != 0 and L > err and mpmath.mag(Lhi) < mpmath.mag(cv) - G:
        # 0 < L <= Lhi < 2^(mag c - G): c + s L lies strictly between c and c + s 2^(mag c - G),
        # an open interval inside one rounding cell of dt (cells near c are at least
        # 2^(mag c - p - 2) wide), so two points of it decide the rounding; the exact sum would
        # not fit in memory.
        e = mpmath.mag(cv) - G
        d1 = mpmath.ldexp(mpf(s), e - 1)
        d2 = mpmath.ldexp(mpf(s), e)
        return _decide(mpmath.fadd(cv, d1, exact=True), mpmath.fadd(cv, d2, exact=True), dt)
    v = mpmath.fadd(cv, L if s > 0 else -L, exact=True)
    lo = mpmath.fsub(v, err, exact=True)
    hi = mpmath.fadd(v, err, exact=True)
    return _decide(lo, hi, dt)


def _ziv(f, *args):
    P = P0
    while True:
        res = f(*args, P)
        if res is not None:
            break
        P *= 2
        STATS["ziv_retries"] += 1
        if P > PMAX:
            raise RuntimeError("rounding not decided at %d bits" % P)
    STATS["max_prec"] = max(STATS["max_prec"], P)
    P2 = 2 * P + 256
    res2 = f(*args, P2)
    assert res2 is not None and bits(res2) == bits(res), (f.__name__, args, res, res2)
    STATS["irrational"] += 1
    return res


def eval_ratio(N, D, dt, root=1):
    """sum_k N[k] e^{k/sqrt(root)} / sum_k D[k] e^{k/sqrt(root)}, exact Fraction keys/coefs."""
    assert D and all(b > 0 for b in D.values())
    assert set(N) <= set(D)
    m = max(D)
    Ns = {k - m: Fraction(a) for k, a in N.items() if a != 0}
    Ds = {k - m: Fraction(b) for k, b in D.items()}
    if not Ns:
        STATS["exact"] += 1
        return 0.0
    k0 = next(iter(Ds))
    r = Ns.get(k0, Fraction(0)) / Ds[k0]
    if all(Ns.get(k, Fraction(0)) == r * b for k, b in Ds.items()):
        STATS["exact"] += 1
        return round_fraction(r, dt)
    return _ziv(_ratio_at, Ns, Ds, root, dt)


def eval_log(c, s, T, dt, root=1):
    """c + s * log1p(sum_k T[k] e^{k/sqrt(root)}), keys <= 0, coefficients >= 0."""
    T = {k: Fraction(b) for k, b in T.items() if b != 0}
    assert all(b > 0 for b in T.values()) and all(k <= 0 for k in T)
    if not T:
        STATS["exact"] += 1
        return round_fraction(c, dt)
    return _ziv(_log_at, Fraction(c), s, T, root, dt)


# ----------------------------------------------------------------------------------------------
# The functions (strict profile of DESIGN.md section 2 / oracle.hpp)


def _classify(z):
    nan = any(math.isnan(v) for v in z)
    pinf = [i for i, v in enumerate(z) if v == INF]
    fin = [i for i, v in enumerate(z) if math.isfinite(v)]
    return nan, pinf, fin


def _groups(vals):
    """vals: dict i -> Fraction. Returns (max, shifted key per i, Counter of shifted keys)."""
    m = max(vals.values())
    keys = {i: v - m for i, v in vals.items()}
    return m, keys, Counter(keys.values())


def f_softmax(z, dt, scale=None):
    """scale: a Fraction t for softmax(z / t) (z / t exact)."""
    n = len(z)
    nan, pinf, fin = _classify(z)
    if nan:
        return [NAN] * n
    if pinf:
        k = len(pinf)
        return [round_fraction(Fraction(1, k), dt) if z[i] == INF else 0.0 for i in range(n)]
    if not fin:
        return [0.0] * n
    vals = {i: Fraction(z[i]) / (scale if scale is not None else 1) for i in fin}
    _, keys, D = _groups(vals)
    out = [0.0] * n
    for i in fin:
        out[i] = eval_ratio({keys[i]: 1}, D, dt)
    return out


def f_log_softmax(z, dt):
    n = len(z)
    nan, pinf, fin = _classify(z)
    if nan:
        return [NAN] * n
    if pinf:
        k = len(pinf)
        v = eval_log(0, -1, {Fraction(0): k - 1}, dt)  # -log k (k = 1: exact 0 -> +0)
        return [v if z[i] == INF else -INF for i in range(n)]
    if not fin:
        return [-INF] * n
    vals = {i: Fraction(z[i]) for i in fin}
    _, keys, D = _groups(vals)
    T = dict(D)
    T[Fraction(0)] -= 1
    out = [-INF] * n
    for i in fin:
        out[i] = eval_log(keys[i], -1, T, dt)
    return out


def f_logsumexp(z, dt):
    nan, pinf, fin = _classify(z)
    if nan:
        return [NAN]
    if pinf:
        return [INF]
    if not fin:
        return [-INF]
    vals = {i: Fraction(z[i]) for i in fin}
    m, keys, D = _groups(vals)
    T = dict(D)
    T[Fraction(0)] -= 1
    return [eval_log(m, 1, T, dt)]


def f_cross_entropy(z, y, dt):
    nan, pinf, fin = _classify(z)
    if nan:
        return [NAN]
    if pinf:
        if z[y] == INF:
            return [eval_log(0, 1, {Fraction(0): len(pinf) - 1}, dt)]  # log k
        return [INF]
    if not fin or not math.isfinite(z[y]):
        return [INF]  # all -inf, or z_y = -inf among finite entries
    vals = {i: Fraction(z[i]) for i in fin}
    m, keys, D = _groups(vals)
    T = dict(D)
    T[Fraction(0)] -= 1
    return [eval_log(m - vals[y], 1, T, dt)]


def f_cross_entropy_grad(z, y, dt):
    n = len(z)
    nan, pinf, fin = _classify(z)
    if nan:
        return [NAN] * n
    if pinf:
        k = len(pinf)
        p = [Fraction(1, k) if z[i] == INF else Fraction(0) for i in range(n)]
        p[y] -= 1
        return [round_fraction(v, dt) for v in p]
    if not fin:
        return [-1.0 if i == y else 0.0 for i in range(n)]
    vals = {i: Fraction(z[i]) for i in fin}
    _, keys, D = _groups(vals)
    out = [0.0] * n
    for i in fin:
        if i != y:
            out[i] = eval_ratio({keys[i]: 1}, D, dt)
    # p_y - 1 = -(sum_{j != y} e^{u_j}) / sum_j e^{u_j}, no cancellation
    Ny = {k: -b for k, b in D.items()}
    if y in keys:
        Ny[keys[y]] += 1
    out[y] = eval_ratio(Ny, D, dt)
    return out


def f_softmax_temperature(z, t, dt):
    return f_softmax(z, dt, scale=Fraction(t))


def f_sigmoid(x, dt):
    if math.isnan(x):
        return [NAN]
    if x == INF:
        return [1.0]
    if x == -INF:
        return [0.0]
    X = Fraction(x)
    D = Counter({Fraction(0): 1})
    D[-X] += 1
    return [eval_ratio({Fraction(0): 1}, D, dt)]


def f_softmax_backward(y, dy, dt):
    Y = [Fraction(v) for v in y]
    G = [Fraction(v) for v in dy]
    s = sum(a * b for a, b in zip(Y, G))
    return [round_fraction(Y[i] * (G[i] - s), dt) for i in range(len(y))]


def f_masked_softmax(z, keep, dt):
    idx = [i for i in range(len(z)) if keep[i]]
    out = [0.0] * len(z)
    if idx:
        sub = f_softmax([z[i] for i in idx], dt)
        for i, v in zip(idx, sub):
            out[i] = v
    return out


def f_attention(q, k, v, lq, lk, d, dv, causal, dt):
    Q = [Fraction(x) for x in q]
    K = [Fraction(x) for x in k]
    V = [Fraction(x) for x in v]
    out = []
    for i in range(lq):
        js = [j for j in range(lk) if not (causal and j > i)]
        dots = {j: sum(Q[i * d + c] * K[j * d + c] for c in range(d)) for j in js}
        m = max(dots.values())
        keys = {j: dots[j] - m for j in js}
        D = Counter(keys.values())
        for c in range(dv):
            N = defaultdict(Fraction)
            for j in js:
                N[keys[j]] += V[j * dv + c]
            out.append(eval_ratio(dict(N), D, dt, root=d))
    return out


# ----------------------------------------------------------------------------------------------
# Generators


class Gen:
    def __init__(self, rng, dt):
        self.r = rng
        self.dt = dt
        self.big = dt == "f64"
        self.MAX = MAXV[dt]

    def f(self, x):
        return fl(x, self.dt)

    def uni(self, a, b):
        return self.f(self.r.uniform(a, b))

    def gauss(self, mu, s):
        return self.f(self.r.gauss(mu, s))

    def n(self, lo=1, hi=70):
        r = self.r.random()
        if r < 0.5:
            return self.r.randint(lo, min(hi, 8))
        if r < 0.75:
            return self.r.choice([x for x in (1, 2, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 70)
                                  if lo <= x <= hi] or [lo])
        return self.r.randint(lo, hi)

    def bitval(self, finite=True):
        while True:
            if self.dt == "f32":
                v = struct.unpack("<f", struct.pack("<I", self.r.getrandbits(32)))[0]
            else:
                v = struct.unpack("<d", struct.pack("<Q", self.r.getrandbits(64)))[0]
            if not finite or math.isfinite(v):
                return v

    def next_up(self, x, k=1):
        """x moved k ulps up (x finite, result finite)."""
        for _ in range(abs(k)):
            x = self._step(x, 1 if k > 0 else -1)
        return x

    def _step(self, x, s):
        if self.dt == "f64":
            return math.nextafter(x, s * INF)
        b = struct.unpack("<i", struct.pack("<f", x))[0]
        if x == 0:
            return MINSUB["f32"] * s
        if (x > 0) == (s > 0):
            b += 1
        else:
            b -= 1
        return struct.unpack("<f", struct.pack("<i", b))[0]

    # --- rows ------------------------------------------------------------------------------
    def row(self, regime):
        r, dt = self.r, self.dt
        n = self.n()
        if regime == "small":
            return [self.uni(-3, 3) for _ in range(n)]
        if regime == "normal":
            return [self.gauss(0, 10) for _ in range(n)]
        if regime == "wide":
            s = r.choice([30, 80, 200] if dt == "f32" else [300, 700, 1500])
            return [self.uni(-s, s) for _ in range(n)]
        if regime == "huge_offset_1e4":
            c = r.choice([1e4, -1e4, 1e5])
            return [self.f(c + r.uniform(-10, 10)) for _ in range(n)]
        if regime == "huge_offset_max":
            c = r.choice([1e30, -1e30, 3e35] if dt == "f32" else [1e300, -1e300, 1e200])
            c = self.f(c)
            return [self.next_up(c, r.randint(-3, 3)) for _ in range(n)]
        if regime == "near_overflow":
            M = self.MAX
            pool = [M, self.next_up(M, -1), self.next_up(M, -2), self.f(M / 2), self.f(M * 0.75)]
            if r.random() < 0.5:
                return [r.choice(pool) for _ in range(n)]
            return [r.choice(pool) if r.random() < 0.6 else self.uni(-100, 100) for _ in range(n)]
        if regime == "ties":
            c = r.choice([0.0, -0.0, 1.0, self.uni(-50, 50), self.gauss(0, 1e3)])
            m = r.randint(2, min(n + 1, 9))
            row = [c] * m + [self.f(c - r.uniform(0.5, 30)) for _ in range(r.randint(0, 5))]
            r.shuffle(row)
            return row
        if regime == "exact":
            c = r.choice([0.0, -0.0, 1.0, self.uni(-50, 50), self.bitval()])
            return [c] * n
        if regime == "near_ties":
            c = self.uni(-20, 20) if r.random() < 0.7 else self.uni(1e3, 1e6)
            return [self.next_up(c, r.randint(-2, 2)) for _ in range(min(n, 6))]
        if regime == "dominant":
            c = self.uni(-20, 20)
            gap = (20, 100) if dt == "f32" else (20, 700)
            row = [self.f(c - r.uniform(*gap)) for _ in range(n - 1)] + [c]
            if n == 1:
                row.append(self.f(c - r.uniform(*gap)))
            r.shuffle(row)
            return row
        if regime == "subnormal_probs":
            lo, hi = (88, 150) if dt == "f32" else (708, 745)
            c = self.uni(-5, 5)
            m = r.randint(1, 2)
            row = [c] * m + [self.f(c - r.uniform(lo, hi)) for _ in range(max(1, n - m))]
            r.shuffle(row)
            return row
        if regime == "ninf":
            row = [self.gauss(0, 5) for _ in range(max(n, 2))]
            for _ in range(r.randint(1, len(row) - 1)):
                row[r.randrange(len(row))] = -INF
            if not any(math.isfinite(v) for v in row):
                row[0] = 0.5
            return row
        if regime == "pinf":
            row = [self.gauss(0, 5) if r.random() < 0.8 else -INF for _ in range(max(n, 2))]
            for _ in range(r.randint(1, min(3, len(row)))):
                row[r.randrange(len(row))] = INF
            return row
        if regime == "nan":
            row = [r.choice([self.gauss(0, 5), self.gauss(0, 5), INF, -INF]) for _ in range(n)]
            for _ in range(r.randint(1, 2)):
                row[r.randrange(n)] = NAN
            return row
        if regime == "all_ninf":
            return [-INF] * r.randint(1, 9)
        if regime == "n1":
            return [r.choice([self.gauss(0, 10), self.bitval(), 0.0, -0.0, self.MAX, -self.MAX,
                              MINSUB[dt], INF, -INF, NAN])]
        if regime == "bits":
            return [self.bitval() for _ in range(r.randint(1, 8))]
        if regime == "tiny_inputs":
            return [self.f(r.choice([-1, 1]) * MINSUB[dt] * r.randint(1, 1 << 20)) for _ in range(n)]
        raise KeyError(regime)


ROW_REGIMES = ["small", "normal", "wide", "huge_offset_1e4", "huge_offset_max", "near_overflow",
               "ties", "exact", "near_ties", "dominant", "subnormal_probs", "ninf", "pinf", "nan",
               "all_ninf", "n1", "bits", "tiny_inputs"]


def overflow_rows(g):
    """Rows (z, label) where lse(z) - z_y or z_i - lse(z) overflows or just does not."""
    dt = g.dt
    p, emin, emax = FMT[dt]
    M = g.MAX
    h = math.ldexp(1.0, emax - p)  # half an ulp of MAX: MAX + h is the overflow threshold
    top = math.ldexp(1.0, emax)
    rows = [
        ([M, -h], 1),                                   # = threshold + tiny: inf
        ([M, -g.next_up(h, -1)], 1),                    # just below: MAX
        ([top, -(top - h)], 1),                         # threshold + tiny: inf
        ([top, -(top - 2 * h)], 1),                     # MAX - ... : rounds to MAX
        ([top, -g.next_up(top - 2 * h, 1)], 1),         # between
        ([M, M, -h], 2),                                # threshold + log 2: inf
        ([M, -M], 1),                                   # 2 MAX: inf
        ([M, -M], 0),                                   # log1p(e^-2MAX): +tiny -> +0
        ([M, M], 0),                                    # log 2
        ([M] * 70, 5),                                  # log 70
        ([-M, -M, -M], 1),
        ([M, g.f(-M / 2), -INF], 1),                    # 1.5 MAX: inf
        ([g.f(M / 2), g.f(-M / 2)], 1),                 # MAX (exact-ish): not overflow
        ([g.f(M / 2), g.next_up(g.f(-M / 2), -1)], 1),
    ]
    for _ in range(16):
        a = g.next_up(M, -g.r.randint(0, 3))
        b = -g.next_up(h, g.r.randint(-3, 3))
        rows.append(([a, b] + [g.uni(-5, 5) for _ in range(g.r.randint(0, 3))], 1))
    return rows


# ----------------------------------------------------------------------------------------------
# Case assembly


def hx(v):
    return float.hex(v)


class Table:
    def __init__(self):
        self.cases = []

    def add(self, function, dt, regime, inputs, expected):
        c = {"id": len(self.cases), "function": function, "dtype": dt, "regime": regime}
        c.update(inputs)
        c["expected"] = [hx(v) for v in expected]
        self.cases.append(c)


def check_inputs(dt, *lists):
    for L in lists:
        for v in L:
            assert isinstance(v, float) and in_dtype(v, dt), (dt, v)


def pick_label(g, z, regime):
    r = g.r
    n = len(z)
    special = [i for i, v in enumerate(z) if not math.isfinite(v)]
    if special and r.random() < 0.5:
        return r.choice(special)
    if r.random() < 0.3:
        fin = [i for i in range(n) if math.isfinite(z[i])]
        if fin:
            return r.choice([max(fin, key=lambda i: z[i]), min(fin, key=lambda i: z[i])])
    return r.randrange(n)


def gen_row_functions(T, rng):
    for function in ["softmax", "log_softmax", "logsumexp", "cross_entropy", "cross_entropy_grad"]:
        for dt in ("f32", "f64"):
            g = Gen(rng, dt)
            for regime in ROW_REGIMES:
                count = 8 if regime not in ("small", "normal", "wide", "dominant", "subnormal_probs") else 10
                for _ in range(count):
                    z = g.row(regime)
                    check_inputs(dt, z)
                    if function == "softmax":
                        T.add(function, dt, regime, {"x": [hx(v) for v in z]}, f_softmax(z, dt))
                    elif function == "log_softmax":
                        T.add(function, dt, regime, {"x": [hx(v) for v in z]}, f_log_softmax(z, dt))
                    elif function == "logsumexp":
                        T.add(function, dt, regime, {"x": [hx(v) for v in z]}, f_logsumexp(z, dt))
                    else:
                        y = pick_label(g, z, regime)
                        fn = f_cross_entropy if function == "cross_entropy" else f_cross_entropy_grad
                        T.add(function, dt, regime, {"x": [hx(v) for v in z], "label": y}, fn(z, y, dt))
            # overflow / near-overflow constructions
            for z, y in overflow_rows(g):
                check_inputs(dt, z)
                ins = {"x": [hx(v) for v in z]}
                if function == "softmax":
                    T.add(function, dt, "overflow_edge", ins, f_softmax(z, dt))
                elif function == "log_softmax":
                    T.add(function, dt, "overflow_edge", ins, f_log_softmax(z, dt))
                elif function == "logsumexp":
                    T.add(function, dt, "overflow_edge", ins, f_logsumexp(z, dt))
                else:
                    fn = f_cross_entropy if function == "cross_entropy" else f_cross_entropy_grad
                    ins["label"] = y
                    T.add(function, dt, "overflow_edge", ins, fn(z, y, dt))
            # every label of a few rows
            for regime in ("small", "ninf", "pinf", "ties"):
                if function in ("cross_entropy", "cross_entropy_grad"):
                    z = g.row(regime)[:12]
                    fn = f_cross_entropy if function == "cross_entropy" else f_cross_entropy_grad
                    for y in range(len(z)):
                        T.add(function, dt, "all_labels_" + regime, {"x": [hx(v) for v in z], "label": y},
                              fn(z, y, dt))
            # hand cases
            hand = [[0.0, 0.0, 0.0, 0.0], [2.0, 1.0, 0.0], [3.0, 1.0, -2.0, 0.0], [5.0, 2.0, 1.0],
                    [0.0], [-INF, 0.0], [INF], [INF, INF, 0.0], [INF, INF, INF, -INF], [1.0, NAN],
                    [-INF, -INF], [0.0, -0.0], [1.0, 1.0, 1.0]]
            for z in hand:
                ins = {"x": [hx(v) for v in z]}
                if function == "softmax":
                    T.add(function, dt, "hand", ins, f_softmax(z, dt))
                elif function == "log_softmax":
                    T.add(function, dt, "hand", ins, f_log_softmax(z, dt))
                elif function == "logsumexp":
                    T.add(function, dt, "hand", ins, f_logsumexp(z, dt))
                else:
                    fn = f_cross_entropy if function == "cross_entropy" else f_cross_entropy_grad
                    for y in range(len(z)):
                        T.add(function, dt, "hand", dict(ins, label=y), fn(z, y, dt))


def gen_temperature(T, rng):
    function = "softmax_temperature"
    for dt in ("f32", "f64"):
        g = Gen(rng, dt)
        r = g.r
        tiny = [1e-30, MINSUB[dt], 1e-45 if dt == "f32" else 1e-300, 1e-10]
        huge = [1e30, g.MAX, 1e10] + ([1e300] if dt == "f64" else [1e38])
        tsets = {
            "t_normal": lambda: g.uni(0.05, 20),
            "t_one": lambda: 1.0,
            "t_tiny": lambda: g.f(r.choice(tiny)),
            "t_huge": lambda: g.f(r.choice(huge)),
            "t_bits": lambda: abs(g.bitval()) or MINSUB[dt],
        }
        rows = ["small", "normal", "wide", "ties", "near_ties", "dominant", "huge_offset_1e4",
                "huge_offset_max", "subnormal_probs", "ninf", "pinf", "nan", "all_ninf", "n1",
                "exact", "bits", "tiny_inputs", "near_overflow"]
        for tname, tf in tsets.items():
            for regime in rows:
                for _ in range(2 if tname != "t_normal" else 3):
                    z = g.row(regime)
                    t = tf()
                    check_inputs(dt, z, [t])
                    assert t > 0 and math.isfinite(t)
                    T.add(function, dt, tname + "/" + regime, {"x": [hx(v) for v in z], "t": hx(t)},
                          f_softmax_temperature(z, t, dt))
        for z, t in [([0.0, 0.0, 0.0, 0.0], 1e-30), ([2.0, 1.0, 0.0], 1.0), ([2.0, 1.0, 0.0], 0.5),
                     ([1.0, 0.0], g.f(1e-30)), ([1.0, 0.0], g.f(1e30)), ([0.0, MINSUB[dt]], MINSUB[dt])]:
            t = g.f(t)
            check_inputs(dt, z, [t])
            T.add(function, dt, "hand", {"x": [hx(v) for v in z], "t": hx(t)},
                  f_softmax_temperature(z, t, dt))


def gen_sigmoid(T, rng):
    for dt in ("f32", "f64"):
        g = Gen(rng, dt)
        r = g.r
        lo_neg = (-87, -110) if dt == "f32" else (-700, -750)
        near1 = (8, 20) if dt == "f32" else (17, 40)
        regimes = {
            "zero": lambda: r.choice([0.0, -0.0]),
            "small": lambda: g.uni(-5, 5),
            "moderate": lambda: g.uni(-40, 40),
            "large_neg_subnormal": lambda: g.uni(*lo_neg),
            "near_one": lambda: g.uni(*near1),
            "huge": lambda: g.f(r.choice([1, -1]) * r.choice([1e30, 1e4, 1e38, g.MAX] + ([1e300] if dt == "f64" else []))),
            "tiny": lambda: g.f(r.choice([-1, 1]) * MINSUB[dt] * r.randint(1, 1 << 30)),
            "bits": lambda: g.bitval(),
            "specials": lambda: r.choice([INF, -INF, NAN]),
            # 0.5 + x/4 on a midpoint of dt, minus x^3/48
            "near_midpoint": lambda: math.ldexp(2 * r.randint(0, 20) + 1,
                                                r.choice([1 - FMT[dt][0], -FMT[dt][0]]))
                                     * r.choice([1, -1]),
        }
        for name, f in regimes.items():
            for _ in range(14):
                x = f()
                check_inputs(dt, [x])
                T.add("sigmoid", dt, name, {"x": [hx(x)]}, f_sigmoid(x, dt))
        for x in [0.0, 1.0, -1.0, 2.0, INF, -INF, NAN, MINSUB[dt], -MINSUB[dt], g.MAX, -g.MAX]:
            T.add("sigmoid", dt, "hand", {"x": [hx(x)]}, f_sigmoid(x, dt))


def gen_backward(T, rng):
    for dt in ("f32", "f64"):
        g = Gen(rng, dt)
        r = g.r

        def probs(n):
            w = [r.random() ** 3 for _ in range(n)]
            s = sum(w)
            return [g.f(x / s) for x in w]

        def wide_val(lo, hi):
            return g.f(r.choice([-1, 1]) * math.ldexp(r.random() + 0.5, r.randint(lo, hi)))

        lim = 120 if dt == "f32" else 1000
        ovf = (60, 127) if dt == "f32" else (500, 1023)
        und = (-149, -60) if dt == "f32" else (-1074, -520)

        def mk(regime):
            n = g.n()
            if regime == "softmaxlike":
                return probs(n), [g.gauss(0, 1) for _ in range(n)]
            if regime == "cancel_equal_dy":
                c = g.gauss(0, 10)
                return probs(n), [c] * n
            if regime == "cancel_near_dy":
                c = g.uni(1, 100)
                return probs(n), [g.next_up(c, r.randint(-3, 3)) for _ in range(n)]
            if regime == "arbitrary":
                return [g.gauss(0, 2) for _ in range(n)], [g.gauss(0, 2) for _ in range(n)]
            if regime == "wide":
                return [wide_val(-lim, lim // 4) for _ in range(n)], [wide_val(-lim, lim // 4) for _ in range(n)]
            if regime == "overflow":
                return [wide_val(*ovf) for _ in range(n)], [wide_val(*ovf) for _ in range(n)]
            if regime == "underflow":
                return [wide_val(*und) for _ in range(n)], [wide_val(und[0] // 4, 0) for _ in range(n)]
            if regime == "zeros_in_y":
                y = probs(n)
                for _ in range(r.randint(1, n)):
                    y[r.randrange(n)] = r.choice([0.0, -0.0])
                return y, [g.gauss(0, 1) for _ in range(n)]
            if regime == "one_hot":
                y = [0.0] * n
                y[r.randrange(n)] = 1.0
                return y, [g.gauss(0, 1) for _ in range(n)]
            if regime == "n1":
                return [g.gauss(0, 1)], [g.gauss(0, 1)]
            if regime == "bits":
                n = r.randint(1, 6)
                return [g.bitval() for _ in range(n)], [g.bitval() for _ in range(n)]
            raise KeyError(regime)

        for regime in ["softmaxlike", "cancel_equal_dy", "cancel_near_dy", "arbitrary", "wide",
                       "overflow", "underflow", "zeros_in_y", "one_hot", "n1", "bits"]:
            for _ in range(12):
                y, dy = mk(regime)
                check_inputs(dt, y, dy)
                T.add("softmax_backward", dt, regime, {"y": [hx(v) for v in y], "dy": [hx(v) for v in dy]},
                      f_softmax_backward(y, dy, dt))
        y, dy = [0.25, 0.25, 0.25, 0.25], [1.0, 2.0, 3.0, 4.0]
        T.add("softmax_backward", dt, "hand", {"y": [hx(v) for v in y], "dy": [hx(v) for v in dy]},
              f_softmax_backward(y, dy, dt))


def gen_masked(T, rng):
    for dt in ("f32", "f64"):
        g = Gen(rng, dt)
        r = g.r
        base_rows = ["small", "normal", "wide", "dominant", "subnormal_probs", "ties", "ninf",
                     "pinf", "huge_offset_1e4", "huge_offset_max", "bits", "exact"]
        for mode in ["random", "all_masked", "one_kept", "none_masked", "masked_huge"]:
            for regime in base_rows:
                for _ in range(2 if mode != "random" else 5):
                    z = g.row(regime)
                    n = len(z)
                    if mode == "random":
                        keep = [1 if r.random() < 0.6 else 0 for _ in range(n)]
                    elif mode == "all_masked":
                        keep = [0] * n
                    elif mode == "one_kept":
                        keep = [0] * n
                        keep[r.randrange(n)] = 1
                    elif mode == "none_masked":
                        keep = [1] * n
                    else:  # masked entries would dominate if they took part
                        keep = [1 if r.random() < 0.5 else 0 for _ in range(n)]
                        if not any(keep):
                            keep[0] = 1
                        z = [v if keep[i] else g.f(r.choice([1e30, g.MAX, 1e4])) for i, v in enumerate(z)]
                    # masked-out positions hold finite values or -inf (never NaN / +inf)
                    z = [v if keep[i] or v == -INF or math.isfinite(v) else g.gauss(0, 3)
                         for i, v in enumerate(z)]
                    check_inputs(dt, z)
                    T.add("masked_softmax", dt, mode + "/" + regime,
                          {"x": [hx(v) for v in z], "keep": keep}, f_masked_softmax(z, keep, dt))
        for z, keep in [([0.0] * 4, [1, 1, 1, 1]), ([0.0] * 4, [1, 0, 1, 0]), ([5.0, 1.0], [0, 0]),
                        ([-INF, -INF, 3.0], [1, 1, 0]), ([INF, 0.0, INF], [1, 1, 0])]:
            T.add("masked_softmax", dt, "hand", {"x": [hx(v) for v in z], "keep": keep},
                  f_masked_softmax(z, keep, dt))


def gen_attention(T, rng):
    for dt in ("f32", "f64"):
        g = Gen(rng, dt)
        r = g.r

        def shape(force_lq_gt_lk=False):
            lq, lk = r.randint(1, 6), r.randint(1, 6)
            if force_lq_gt_lk:
                lk = r.randint(1, 5)
                lq = r.randint(lk + 1, 6)
            return lq, lk, r.randint(1, 5), r.randint(1, 5)

        def mat(rows, cols, f):
            return [f() for _ in range(rows * cols)]

        big = 1e15 if dt == "f32" else 1e150
        regimes = {
            "small": lambda: g.gauss(0, 1),
            "sharp": lambda: g.gauss(0, 8),
            "huge_scores": lambda: g.f(g.r.gauss(0, 1) * big),
            "ints": lambda: float(r.randint(-3, 3)),
            "bits": lambda: g.bitval(),
        }
        cases = []
        for name, f in regimes.items():
            for _ in range(14):
                lq, lk, d, dv = shape(r.random() < 0.25)
                causal = r.random() < 0.5
                q, k = mat(lq, d, f), mat(lk, d, f)
                v = mat(lk, dv, lambda: g.gauss(0, 3) if name != "bits" else g.bitval())
                cases.append((name, q, k, v, lq, lk, d, dv, causal))
        for _ in range(12):  # causal with lq > lk
            lq, lk, d, dv = shape(True)
            q, k, v = mat(lq, d, regimes["small"]), mat(lk, d, regimes["small"]), mat(lk, dv, regimes["small"])
            cases.append(("causal_lq_gt_lk", q, k, v, lq, lk, d, dv, True))
        for _ in range(12):  # q = 0: uniform weights, exact rational averages
            lq, lk, d, dv = shape()
            v = mat(lk, dv, lambda: float(r.randint(-9, 9)) / r.choice([1, 2, 3, 7]))
            v = [g.f(x) for x in v]
            cases.append(("uniform_exact", [0.0] * (lq * d), mat(lk, d, regimes["small"]), v, lq, lk, d, dv,
                          r.random() < 0.5))
        for _ in range(10):  # equal keys: ties, exact averages
            lq, lk, d, dv = shape()
            krow = mat(1, d, regimes["small"])
            cases.append(("equal_keys", mat(lq, d, regimes["small"]), krow * lk, mat(lk, dv, regimes["small"]),
                          lq, lk, d, dv, r.random() < 0.5))
        for _ in range(8):  # equal v rows: exact v
            lq, lk, d, dv = shape()
            vrow = mat(1, dv, regimes["small"])
            cases.append(("equal_v", mat(lq, d, regimes["small"]), mat(lk, d, regimes["small"]), vrow * lk,
                          lq, lk, d, dv, r.random() < 0.5))
        for _ in range(8):  # cancellation to an exact 0 / near 0
            lq, lk, d, dv = shape()
            lk = 2
            krow = mat(1, d, regimes["small"])
            vrow = mat(1, dv, regimes["small"])
            kk = krow * 2 if r.random() < 0.5 else krow + [g.next_up(x, 1) for x in krow]
            cases.append(("cancel", mat(lq, d, regimes["small"]), kk, vrow + [-x for x in vrow],
                          lq, lk, d, dv, False))
        for _ in range(8):  # extreme v
            lq, lk, d, dv = shape()
            vf = r.choice([lambda: g.f(r.choice([1, -1]) * g.MAX * r.uniform(0.9, 1)),
                           lambda: g.f(r.choice([1, -1]) * MINSUB[dt] * r.randint(1, 100))])
            cases.append(("extreme_v", mat(lq, d, regimes["small"]), mat(lk, d, regimes["small"]),
                          mat(lk, dv, vf), lq, lk, d, dv, r.random() < 0.5))
        p = FMT[dt][0]
        for j in range(10):  # two near-tied scores and v = (x, next(x)): out just off a midpoint
            a = math.ldexp(1.0, r.choice([-100, -60, -20]) if dt == "f32" else r.choice([-900, -500, -100]))
            d = r.choice([1, 1, 2, 3])
            k = [a] * d + [g.next_up(a, r.choice([1, -1]))] * d
            q = [r.choice([1.0, -1.0, 2.0])] * d
            x = g.uni(-4, 4) if j % 2 else r.choice([1.0, 0.75, -3.0])
            cases.append(("near_midpoint", q, k, [x, g.next_up(x, 1)], 1, 2, d, 1, False))
        for name, q, k, v, lq, lk, d, dv, causal in cases:
            check_inputs(dt, q, k, v)
            T.add("attention", dt, name + ("/causal" if causal else ""),
                  {"q": [hx(x) for x in q], "k": [hx(x) for x in k], "v": [hx(x) for x in v],
                   "lq": lq, "lk": lk, "d": d, "dv": dv, "causal": causal},
                  f_attention(q, k, v, lq, lk, d, dv, causal, dt))
        # hand: identity-like
        q, k, v = [1.0, 0.0], [1.0, 0.0], [2.0, 4.0]
        T.add("attention", dt, "hand", {"q": [hx(x) for x in q], "k": [hx(x) for x in k], "v": [hx(x) for x in v],
                                         "lq": 1, "lk": 1, "d": 2, "dv": 2, "causal": False},
              f_attention(q, k, v, 1, 1, 2, 2, False, dt))


# ----------------------------------------------------------------------------------------------
# Reduced formats: IEEE binary16 ("f16") and bfloat16 ("bf16"), softmax and log_softmax only.
#
# Their values are carried as Python floats (every one is exactly a float) and rounded by the same
# integer routines above, with the format's (p, emin, emax).  The 16-bit encodings below only
# serve the generators (random bit patterns, neighbours) and the self-check.

REDUCED = ("f16", "bf16")


def r16_decode(b, dt):
    """The value of the 16-bit pattern b of dt (exact, as a float)."""
    p, emin, emax = FMT[dt]
    mb = p - 1
    eb = 15 - mb
    E = (b >> mb) & ((1 << eb) - 1)
    M = b & ((1 << mb) - 1)
    if E == (1 << eb) - 1:
        v = NAN if M else INF
    elif E == 0:
        v = math.ldexp(M, emin - mb)
    else:
        v = math.ldexp(M | (1 << mb), E - 1 + emin - mb)
    return -v if b & 0x8000 else v


def r16_encode(x, dt):
    """The 16-bit pattern of x, a value of dt (finite or infinite, not NaN)."""
    p, emin, emax = FMT[dt]
    mb = p - 1
    eb = 15 - mb
    s = 0x8000 if math.copysign(1.0, x) < 0 else 0
    a = abs(x)
    if a == INF:
        return s | (((1 << eb) - 1) << mb)
    if a == 0:
        return s
    E = max(math.frexp(a)[1] - 1, emin)  # the binade (or the subnormals)
    N = Fraction(a) / Fraction(2) ** (E - mb)
    assert N.denominator == 1 and N < (2 << mb), (x, dt)
    N = int(N)
    if N < (1 << mb):
        return s | N  # subnormal
    return s | ((E - emin + 1) << mb) | (N - (1 << mb))


def fmt_ulp(x, dt):
    """The ULP of the binade of x in dt (of the subnormals below the smallest normal)."""
    p, emin, emax = FMT[dt]
    E = max(math.frexp(abs(x))[1] - 1, emin) if x else emin
    return math.ldexp(1.0, E - p + 1)


def midpoint_distance(v, dt):
    """Distance in ULPs of dt from the double v to the nearest rounding midpoint of dt."""
    t = v / fmt_ulp(v, dt)  # exact (a power of two)
    return abs(abs(t - math.floor(t)) - 0.5)


class RGen(Gen):
    """Rows of values of a reduced format, in regimes sized for its range."""

    def bitval(self, finite=True):
        while True:
            v = r16_decode(self.r.getrandbits(16), self.dt)
            if not math.isnan(v) and (not finite or math.isfinite(v)):
                return v

    def _step(self, x, s):
        b = r16_encode(x, self.dt)
        k = (-(b & 0x7FFF) if b & 0x8000 else b) + s
        v = r16_decode(k if k >= 0 else 0x8000 | -k, self.dt)
        assert math.isfinite(v), (x, s)
        return v

    def row(self, regime):
        r, dt = self.r, self.dt
        h = dt == "f16"
        M = self.MAX
        n = self.n()
        if regime == "small":
            return [self.uni(-3, 3) for _ in range(n)]
        if regime == "normal":
            return [self.gauss(0, 3 if h else 10) for _ in range(n)]
        if regime == "wide":  # f16: exp overflows f16 beyond 11.09, p < 2^-24 rounds to 0
            s = r.choice([6, 11.5, 20, 40] if h else [30, 80, 200])
            return [self.uni(-s, s) for _ in range(n)]
        if regime == "huge_offset":  # c + noise on the format's grid around c
            c = self.f(r.choice([1000, -1000, 3e4, -3e4, 6e4] if h else [1e4, -1e4, 1e30, -1e30, 3e38]))
            u = fmt_ulp(c, dt)
            return [self.f(c + u * r.randint(-24, 24)) for _ in range(n)]
        if regime == "near_max":
            pool = [M, self.next_up(M, -1), self.next_up(M, -2), self.f(M / 2), self.f(M * 0.75), -M,
                    self.next_up(-M, 1)]
            if r.random() < 0.5:
                return [r.choice(pool) for _ in range(n)]
            return [r.choice(pool) if r.random() < 0.6 else self.uni(-100, 100) for _ in range(n)]
        if regime == "ties":
            c = r.choice([0.0, -0.0, 1.0, self.uni(-8, 8), self.gauss(0, 100 if h else 1e3)])
            m = r.randint(2, min(n + 1, 9))
            row = [c] * m + [self.f(c - r.uniform(0.5, 12 if h else 30)) for _ in range(r.randint(0, 5))]
            r.shuffle(row)
            return row
        if regime == "exact":
            c = r.choice([0.0, -0.0, 1.0, self.uni(-50, 50), self.bitval()])
            return [c] * n
        if regime == "near_ties":
            c = self.uni(-8, 8) if r.random() < 0.7 else self.uni(100, 6e4 if h else 1e6)
            return [self.next_up(c, r.randint(-2, 2)) for _ in range(min(n, 6))]
        if regime in ("dominant", "subnormal_probs", "underflow"):
            # gaps: dominant, probabilities in the subnormal range of dt (log_softmax of the max
            # subnormal too), probabilities around half the smallest subnormal and below
            gap = {"dominant": (5, 20) if h else (20, 100),
                   "subnormal_probs": (9.7, 17.3) if h else (87.4, 92.2),
                   "underflow": (16.0, 30.0) if h else (91.0, 110.0)}[regime]
            c = self.uni(-4, 4)
            m = r.randint(1, 2)
            row = [c] * m + [self.f(c - r.uniform(*gap)) for _ in range(max(1, n - m))]
            r.shuffle(row)
            return row
        if regime == "midpoint_shift":
            # z_j - max z exactly a rounding midpoint of dt: the max is an odd multiple of half an
            # ulp of x, the other entry -x; log_softmax is that midpoint minus log1p(e^{-x-max}),
            # a tiny term for large x that decides the rounding (away from the midpoint).
            p = FMT[dt][0]
            E = r.randint(1, 15) if h else r.choice([r.randint(1, 12), r.randint(12, 127)])
            x = math.ldexp(1 + r.randint(4, (1 << (p - 1)) - 4) / (1 << (p - 1)), E)
            half = math.ldexp(1.0, E - p)
            top = half * r.choice([1, 3, 5, 7]) * r.choice([1, -1])
            row = [top, -x]
            for _ in range(r.randint(0, 3)):
                row.append(r.choice([-INF, self.f(-x - r.uniform(1, 50))]))
            r.shuffle(row)
            return row
        if regime == "ninf":
            row = [self.gauss(0, 3) for _ in range(max(n, 2))]
            for _ in range(r.randint(1, len(row) - 1)):
                row[r.randrange(len(row))] = -INF
            if not any(math.isfinite(v) for v in row):
                row[0] = 0.5
            return row
        if regime == "pinf":
            row = [self.gauss(0, 3) if r.random() < 0.8 else -INF for _ in range(max(n, 2))]
            for _ in range(r.randint(1, min(3, len(row)))):
                row[r.randrange(len(row))] = INF
            return row
        if regime == "nan":
            row = [r.choice([self.gauss(0, 3), self.gauss(0, 3), INF, -INF]) for _ in range(n)]
            for _ in range(r.randint(1, 2)):
                row[r.randrange(n)] = NAN
            return row
        if regime == "all_ninf":
            return [-INF] * r.randint(1, 9)
        if regime == "n1":
            return [r.choice([self.gauss(0, 3), self.bitval(), 0.0, -0.0, M, -M, MINSUB[dt], -MINSUB[dt],
                              INF, -INF, NAN])]
        if regime == "bits":
            return [self.bitval() for _ in range(r.randint(1, 8))]
        if regime == "tiny_inputs":
            return [self.f(r.choice([-1, 1]) * MINSUB[dt] * r.randint(1, 1 << 12)) for _ in range(n)]
        if regime == "sigmoid_midpoint":
            # two entries d = (2k+1) 2^-(p-1) apart: the larger one's probability is
            # sigma(d) = 1/2 + d/4 - d^3/48 + ..., just below the midpoint 1/2 + (2k+1) 2^-(p+1)
            # (as sigmoid's "near_midpoint" regime)
            p = FMT[dt][0]
            d = (2 * r.randint(0, 3) + 1) * math.ldexp(1.0, 1 - p)
            x = math.ldexp(r.randint(-1 << (p - 2), (1 << (p - 2)) - 2), 3 - p)  # x, x + d in [-2, 2)
            row = [x, x + d]
            for _ in range(r.randint(0, 2)):
                row.append(-INF)
            r.shuffle(row)
            return row
        raise KeyError(regime)


REDUCED_REGIMES = ["small", "normal", "wide", "huge_offset", "near_max", "ties", "exact", "near_ties",
                   "dominant", "subnormal_probs", "underflow", "midpoint_shift", "ninf", "pinf", "nan",
                   "all_ninf", "n1", "bits", "tiny_inputs", "sigmoid_midpoint"]


def _approx(function, z):
    """softmax / log_softmax of a finite row in double (only to screen candidates)."""
    m = max(z)
    e = [math.exp(v - m) for v in z]
    s = math.fsum(e)
    if function == "softmax":
        return [v / s for v in e]
    return [(v - m) - math.log(s) for v in z]


def near_midpoint_rows(g, function, count):
    """Rows with an output within 2^-10 ULP of a rounding midpoint of g.dt (screened in double,
    whose error is below 2^-40 ULP here; the exact value decides the table's entry)."""
    r, dt = g.r, g.dt
    s = 6 if dt == "f16" else 20
    sub = (9.7, 17.3) if dt == "f16" else (87.4, 92.2)  # results in the subnormal range of dt
    rows = []
    while len(rows) < count:
        if len(rows) % 2 == 0:
            z = [g.uni(-s, s) for _ in range(r.randint(2, 5))]
        else:
            c = g.uni(-4, 4)
            z = [c] + [g.f(c - r.uniform(*sub)) for _ in range(r.randint(1, 2))]
        if min(midpoint_distance(v, dt) for v in _approx(function, z) if v != 0) < 2.0 ** -10:
            rows.append(z)
    return rows


def reduced_hand(dt):
    M = MAXV[dt]
    rows = [[M, -M], [M, M], [0.0, MINSUB[dt]], [-M, -M, -M]]
    if dt == "f16":
        rows += [[2000.0, -0.5], [16.0, -65504.0], [15.5, -65504.0], [0.0, -12.0], [0.0, -17.0],
                 [0.0, -17.5], [1.0, 2.0, 3.0], [1000.0, 1000.5, 999.5]]
    else:
        rows += [[256.0, -1.0], [1.0, -M], [0.0, -90.0], [0.0, -93.0], [0.0, -92.5],
                 [1.0, 2.0, 3.0], [9984.0, 10048.0, 9920.0]]
    return rows


def gen_reduced(T, rng):
    hand = [[0.0, 0.0, 0.0, 0.0], [2.0, 1.0, 0.0], [3.0, 1.0, -2.0, 0.0], [5.0, 2.0, 1.0],
            [0.0], [-INF, 0.0], [INF], [INF, INF, 0.0], [INF, INF, INF, -INF], [1.0, NAN],
            [-INF, -INF], [0.0, -0.0], [1.0, 1.0, 1.0]]
    for function in ("softmax", "log_softmax"):
        fn = f_softmax if function == "softmax" else f_log_softmax
        for dt in REDUCED:
            g = RGen(rng, dt)

            def add(regime, z):
                check_inputs(dt, z)
                T.add(function, dt, regime, {"x": [hx(v) for v in z]}, fn(z, dt))

            for regime in REDUCED_REGIMES:
                for _ in range(16):
                    add(regime, g.row(regime))
            for z, _ in overflow_rows(g):
                add("overflow_edge", z)
            for z in near_midpoint_rows(g, function, 16):
                add("near_midpoint", z)
            for z in hand + reduced_hand(dt):
                add("hand", z)


# ----------------------------------------------------------------------------------------------
# Self-check


def self_check():
    rng = random.Random(1)
    # rounding routine against CPython's correctly rounded int division (f64) and the C cast (f32)
    for _ in range(20000):
        a = rng.getrandbits(rng.randint(1, 200)) | 1
        b = rng.getrandbits(rng.randint(1, 200)) | 1
        e = rng.randint(-1200, 1100)
        x = Fraction(a, b) * Fraction(2) ** e
        try:
            ref = x.numerator / x.denominator
        except OverflowError:
            ref = INF
        assert bits(round_fraction(x, "f64")) == bits(ref), x
        d = float(rng.choice([ref, rng.uniform(-1, 1) * 2.0 ** rng.randint(-160, 130)]))
        if math.isfinite(d):
            try:
                r32 = struct.unpack("<f", struct.pack("<f", d))[0]
            except OverflowError:
                r32 = math.copysign(INF, d)
            assert bits(round_fraction(Fraction(d), "f32")) == bits(r32), d
            with mp.workprec(60):
                assert bits(round_mpf(mpf(d), "f32")) == bits(r32 if d != 0 else d), d
    # ties to even, overflow threshold, subnormals
    assert round_fraction(1 + Fraction(1, 2**24), "f32") == 1.0
    assert round_fraction(1 + Fraction(3, 2**24), "f32") == 1 + 2.0**-22
    thr = Fraction(2**25 - 1, 2**24) * 2**127
    assert round_fraction(thr, "f32") == INF and round_fraction(thr - 1, "f32") == FLT_MAX
    assert round_fraction(Fraction(1, 2**150), "f32") == 0.0
    assert round_fraction(Fraction(3, 2**151), "f32") == 2.0**-149
    assert bits(round_fraction(Fraction(-1, 2**151), "f32")) == bits(-0.0)
    assert round_fraction(Fraction(3, 2**1076), "f64") == 5e-324
    # hand-verifiable values
    for dt in ("f32", "f64"):
        s = f_softmax([2.0, 1.0, 0.0], dt)
        assert all(abs(a - b) < 1e-3 for a, b in zip(s, [0.665, 0.245, 0.090])), s
        ce = f_cross_entropy([3.0, 1.0, -2.0, 0.0], 1, dt)[0]
        assert abs(ce - 2.1755) < 1e-4, ce
        ce = f_cross_entropy([5.0, 2.0, 1.0], 0, dt)[0]
        assert abs(ce - 0.0659) < 1e-4, ce
        assert f_sigmoid(0.0, dt) == [0.5]
        assert f_softmax([0.0] * 4, dt) == [0.25] * 4
        assert f_softmax_temperature([0.0] * 4, 1e-30, dt) == [0.25] * 4
        assert f_logsumexp([7.0], dt) == [7.0]
        assert f_log_softmax([INF, INF, 1.0], dt)[2] == -INF
        assert f_cross_entropy_grad([-INF, -INF], 1, dt) == [0.0, -1.0]
    # the double-precision value is correctly rounded: compare with a plain float evaluation
    with mp.workprec(300):
        for _ in range(200):
            z = [rng.uniform(-5, 5) for _ in range(rng.randint(1, 6))]
            s = f_softmax(z, "f64")
            ref = [math.exp(v) / sum(math.exp(w) for w in z) for v in z]
            assert all(abs(a - b) <= 8 * math.ulp(b) for a, b in zip(s, ref)), (z, s, ref)
            ex = [mpmath.exp(mpf(v)) for v in z]
            tot = mpmath.fsum(ex)
            assert s == [float(e / tot) for e in ex]  # float(mpf) agrees at 300 bits here
            l = f_logsumexp(z, "f64")[0]
            assert l == float(mpmath.log(tot)), (z, l)
            x = rng.uniform(-30, 30)
            assert f_sigmoid(x, "f64")[0] == float(1 / (1 + mpmath.exp(-mpf(x))))
    # softmax_backward cancellation sanity
    assert f_softmax_backward([0.5, 0.5], [1.0, 1.0], "f64") == [0.0, 0.0]
    self_check_reduced(rng)


def self_check_reduced(rng):
    """The reduced formats: encodings, and the rounding against independent conversions (CPython's
    struct 'e' for binary16; for bfloat16, the round-to-nearest-even on the float32 bit pattern)."""
    assert MAXV["f16"] == 65504.0 and MINSUB["f16"] == 2.0**-24 and MAXV["bf16"] == float.fromhex("0x1.fep127")
    for dt in REDUCED:
        prev = None
        for k in range(-0x7C00 if dt == "f16" else -0x7F80, (0x7C00 if dt == "f16" else 0x7F80) + 1):
            b = k if k >= 0 else 0x8000 | -k
            v = r16_decode(b, dt)
            assert in_dtype(v, dt) and (prev is None or v > prev or (v == 0 and prev == 0)), (dt, b, v)
            if k != 0:
                assert r16_encode(v, dt) == b, (dt, b, v)
            if dt == "f16":
                assert bits(v) == bits(struct.unpack("<e", struct.pack("<H", b))[0]), (b, v)
            else:
                assert bits(v) == bits(struct.unpack("<f", struct.pack("<I", b << 16))[0]), (b, v)
            prev = v
        assert prev == INF and r16_decode(b - 1, dt) == MAXV[dt] and r16_decode(1, dt) == MINSUB[dt]
    for _ in range(20000):
        d = rng.choice([rng.uniform(-1, 1) * 2.0 ** rng.randint(-30, 17),
                        rng.choice([1, -1]) * (rng.randint(0, 1 << 14) + rng.choice([0.5, 0.25, 0.75, 0.0, 0.5]))
                        * 2.0 ** rng.randint(-36, 6)])
        try:
            ref = struct.unpack("<e", struct.pack("<e", d))[0]
        except OverflowError:
            ref = math.copysign(INF, d)
        assert bits(round_fraction(Fraction(d), "f16")) == bits(ref if d != 0 else 0.0), d
        if d != 0:
            with mp.workprec(60):
                assert bits(round_mpf(mpf(d), "f16")) == bits(ref), d
        f = struct.unpack("<f", struct.pack("<I", rng.getrandbits(32)))[0]
        if math.isfinite(f):
            u = struct.unpack("<I", struct.pack("<f", f))[0]
            u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16  # RNE on the low 16 bits (carries into inf)
            ref = struct.unpack("<f", struct.pack("<I", u << 16))[0]
            assert bits(round_fraction(Fraction(f), "bf16")) == bits(ref if f != 0 else 0.0), f
    # ties to even, the overflow thresholds MAX + ulp/2, subnormals
    assert round_fraction(Fraction(2049), "f16") == 2048.0 and round_fraction(Fraction(2051), "f16") == 2052.0
    assert round_fraction(Fraction(65520), "f16") == INF and round_fraction(Fraction(65519), "f16") == 65504.0
    assert round_fraction(Fraction(257), "bf16") == 256.0 and round_fraction(Fraction(259), "bf16") == 260.0
    thr = Fraction(2**9 - 1, 2**8) * 2**127
    assert round_fraction(thr, "bf16") == INF and round_fraction(thr - 1, "bf16") == MAXV["bf16"]
    assert round_fraction(Fraction(1, 2**25), "f16") == 0.0 and round_fraction(Fraction(3, 2**26), "f16") == 2.0**-24
    assert round_fraction(Fraction(1, 2**134), "bf16") == 0.0 and round_fraction(Fraction(3, 2**135), "bf16") == 2.0**-133
    # hand-verifiable values
    assert f_softmax([0.0] * 4, "f16") == [0.25] * 4 and f_softmax([7.0] * 3, "bf16") == [float.fromhex("0x1.56p-2")] * 3
    assert f_softmax([1.0, 2.0, 3.0], "f16")[2] == 1362 / 2048  # 0.665241 * 2048 = 1362.41
    assert f_log_softmax([2000.0, -0.5], "f16") == [-0.0, -2001.0]  # midpoint -2000.5 minus e^-2000.5
    assert f_log_softmax([16.0, -65504.0], "f16")[1] == -INF  # -(MAX + ulp/2) - tiny
    assert f_log_softmax([15.5, -65504.0], "f16")[1] == -65504.0
    assert f_softmax([0.0, -17.5], "f16")[1] == 0.0 and f_softmax([0.0, -17.0], "f16")[1] == 2.0**-24


# ----------------------------------------------------------------------------------------------


def build():
    rng = random.Random(SEED)
    T = Table()
    gen_row_functions(T, rng)
    gen_temperature(T, rng)
    gen_sigmoid(T, rng)
    gen_backward(T, rng)
    gen_masked(T, rng)
    gen_attention(T, rng)
    # Reduced formats last, from their own stream: the f32/f64 cases above stay unchanged.
    gen_reduced(T, random.Random(SEED + 16))
    for c in T.cases:  # structural sanity
        f = c["function"]
        ne = len(c["expected"])
        if f in ("logsumexp", "sigmoid", "cross_entropy"):
            assert ne == 1
        elif f == "attention":
            assert ne == c["lq"] * c["dv"]
        elif f == "softmax_backward":
            assert ne == len(c["y"]) == len(c["dy"])
        else:
            assert ne == len(c["x"])
    return T


def main():
    t0 = time.time()
    mp.prec = 128
    self_check()
    T = build()
    text = "".join(json.dumps(c) + "\n" for c in T.cases)
    if "--check" in sys.argv:
        with open(OUT) as f:
            same = f.read() == text
        print("table matches" if same else "TABLE DIFFERS")
        if not same:
            sys.exit(1)
    else:
        with open(OUT, "w") as f:
            f.write(text)
    # summary
    per = Counter((c["function"], c["dtype"]) for c in T.cases)
    per_regime = Counter((c["function"], c["dtype"], c["regime"].split("/")[0]) for c in T.cases)
    print("%d cases -> %s" % (len(T.cases), OUT))
    for (fn, dt), k in sorted(per.items()):
        regs = sorted((rg, v) for (f2, d2, rg), v in per_regime.items() if f2 == fn and d2 == dt)
        print("  %-20s %s %4d   %s" % (fn, dt, k, " ".join("%s:%d" % rv for rv in regs)))
    print("values: %d exact (rational), %d irrational (Ziv); %d precision raises, max %d bits"
          % (STATS["exact"], STATS["irrational"], STATS["ziv_retries"], STATS["max_prec"]))
    print("%.1f s" % (time.time() - t0))


if __name__ == "__main__":
    main()

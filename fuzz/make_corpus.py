#!/usr/bin/env python3
"""Writes the seed corpora fuzz/corpus/<target>/ (deterministic; rerun after changing decode.hpp).

Each seed follows the byte layout of decode.hpp: a flags byte (bit 0 f64, bit 1 causal, bit 2
attention layout, bits 4-5 rows - 1), a u16 label, t and c as raw T, then per entry z (T), dy (T) and keep (1 byte) as the
target wants them; attention seeds carry four size bytes and q, k, v. The rows are the inputs
that break softmax: special values, NaN payloads, huge offsets, ties past the exp overflow point,
all -inf rows, subnormal spreads, n = 1, n around the SIMD widths, extreme temperatures.
Usage: python3 fuzz/make_corpus.py [corpus-dir]   (default: fuzz/corpus next to this script)
"""
import math
import os
import struct
import sys

INF, NAN = math.inf, math.nan
TARGETS = {  # target -> (dy, keep, attention); "both": rows, and attention with flags bit 2
    "softmax_family": (False, False, False),
    "temperature": (False, False, False),
    "sigmoid": (False, False, False),
    "cross_entropy": (False, False, False),
    "softmax_backward": (True, False, False),
    "masked_softmax": (False, True, False),
    "attention": (False, False, True),
    "differential": (True, True, False),
    "plugin": (True, True, "both"),
}


class Bits:
    """A raw bit pattern (NaN payloads, signalling NaNs), per type."""

    def __init__(self, f32, f64):
        self.f32, self.f64 = f32, f64


def pack(x, f64):
    if isinstance(x, Bits):
        return struct.pack("<Q", x.f64) if f64 else struct.pack("<I", x.f32)
    if not f64 and math.isfinite(x) and abs(x) > 3.4028234663852886e38:
        x = math.copysign(INF, x)
    return struct.pack("<d" if f64 else "<f", x)


def consts(f64):
    if f64:
        return dict(max=1.7976931348623157e308, tiny=2.2250738585072014e-308, denorm=5e-324, lexp=709.782712893384)
    return dict(max=3.4028234663852886e38, tiny=1.1754943508222875e-38, denorm=1.401298464324817e-45, lexp=88.72283935546875)


def rows(f64):
    """(name, z, label, t, c, rows) seeds for one type."""
    k = consts(f64)
    out = [
        ("specials", [0.0, -0.0, INF, -INF, NAN], 0, 1.0, 0.0, 1),
        ("nan", [NAN], 0, 1.0, 0.0, 1),
        ("nan-payload", [1.0, Bits(0x7FC00001, 0x7FF8000000000001), 2.0], 1, 1.0, 0.0, 1),
        ("snan", [Bits(0x7F800001, 0x7FF0000000000001), 0.0], 0, 1.0, 0.0, 1),
        ("pos-inf", [INF], 0, 1.0, 0.0, 1),
        ("two-pos-inf", [INF, INF, 1.0], 2, 1.0, 0.0, 1),
        ("neg-inf-among-finite", [-INF, 0.0, 1.0], 1, 1.0, 0.0, 1),
        ("all-neg-inf-1", [-INF], 0, 1.0, 0.0, 1),
        ("all-neg-inf-4", [-INF] * 4, 3, 1.0, 0.0, 1),
        ("huge-offset", [1e4, 1e4 + 1, 1e4 + 2], 0, 1.0, 1.0, 1),
        ("huge-negative-offset", [-3e5, -3e5 + 1, -3e5 + 0.5], 2, 1.0, 1024.0, 1),
        ("near-max", [k["max"], k["max"], 1.0], 0, 1.0, 0.0, 1),
        ("lowest", [-k["max"], 0.0, -k["max"]], 1, 1.0, 0.0, 1),
        ("ties-past-overflow", [k["lexp"] + 1] * 3, 1, 1.0, 0.0, 1),
        ("ties-8", [5.0] * 8, 7, 1.0, 0.0, 1),
        ("exp-threshold", [k["lexp"], -k["lexp"], 0.0], 0, 1.0, 0.0, 1),
        ("subnormal-spread", [k["denorm"], 2 * k["denorm"], k["tiny"], -k["denorm"], 0.0], 4, 1.0, 0.0, 1),
        ("n1-zero", [0.0], 0, 1.0, 0.0, 1),
        ("n1-big", [1e30], 0, 1.0, 0.0, 1),
        ("n1-neg-big", [-1e30], 0, 1.0, 0.0, 1),
        ("one-dominant", [100.0] + [0.0] * 9, 0, 1.0, 0.0, 1),
        ("spread-200", [-100.0, 0.0, 100.0], 0, 1.0, 0.0, 1),
        ("t-tiny", [1.0, 2.0, 3.0, 3.0], 2, 1e-30, 0.0, 1),
        ("t-huge", [1.0, -2.0, 30.0], 0, 1e30, 0.0, 1),
        ("t-small-gap", [1.0, 1.0 + 2.0 ** -20, 0.5], 1, 1e-3, 0.0, 1),
        ("t-subnormal", [0.0, 1.0], 0, k["denorm"], 0.0, 1),
        ("long-100", [((i * 37) % 101) / 8.0 - 6.0 for i in range(100)], 50, 1.0, 0.0, 1),
        ("long-1000", [((i * 7919) % 1009) / 16.0 - 30.0 for i in range(1000)], 999, 1.0, 0.0, 1),
    ]
    for n in (7, 8, 9, 15, 16, 17, 31, 32, 33):
        out.append((f"n{n}", [(i % 13) * 0.5 - 3.0 for i in range(n)], n - 1, 1.0, 2.0, 1))
    out.append(("batch-2x8", [float(i % 5) for i in range(16)], 3, 1.0, 0.0, 2))
    out.append(("batch-4x4", [float(-i) for i in range(16)], 0, 1.0, 0.0, 4))
    out.append(("batch-3x3-inf", [0.0, 1.0, -INF, INF, 0.0, 0.0, 1.0, 2.0, 3.0], 1, 1.0, 0.0, 3))
    return out


def header(f64, label, t, c, rows=1, causal=False, attention_flag=False):
    flags = (1 if f64 else 0) | (2 if causal else 0) | (4 if attention_flag else 0) | ((rows - 1) << 4)
    return bytes([flags]) + struct.pack("<H", label) + pack(t, f64) + pack(c, f64)


def row_seed(f64, z, label, t, c, rows_, dy, keep, masks):
    body = bytearray(header(f64, label, t, c, rows_))
    for i, x in enumerate(z):
        body += pack(x, f64)
        if dy:
            body += pack(((i * 29) % 17 - 8) / 64.0, f64)
        if keep:
            body.append(masks[i % len(masks)])
    return bytes(body)


def attention_seeds(f64, flag=False):
    seeds = []
    for i, (lq, lk, d, dv, causal, scale) in enumerate(
        [(1, 1, 1, 1, False, 1.0), (2, 3, 4, 2, True, 1.0), (6, 10, 8, 5, True, 0.125), (3, 3, 2, 2, False, 1e4),
         (4, 7, 3, 1, True, 64.0), (5, 2, 8, 5, False, 1e-30)]):
        body = bytearray(header(f64, 0, 1.0, 0.0, causal=causal, attention_flag=flag)) + bytes([lq - 1, lk - 1, d - 1, dv - 1])
        for j in range(lq * d + lk * d + lk * dv):
            body += pack(((j * 37) % 19 - 9) * scale / 8.0, f64)
        seeds.append((f"attention-{i}-{lq}x{lk}x{d}x{dv}{'-causal' if causal else ''}", bytes(body)))
    specials = bytearray(header(f64, 0, 1.0, 0.0, attention_flag=flag)) + bytes([1, 1, 0, 0])
    for x in (NAN, 1.0, INF, -INF, 0.0, 1.0, 2.0, -0.0):
        specials += pack(x, f64)
    seeds.append(("attention-specials", bytes(specials)))
    return seeds


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
    for target, (dy, keep, attention) in TARGETS.items():
        d = os.path.join(root, target)
        os.makedirs(d, exist_ok=True)
        for old in os.listdir(d):
            if old.startswith("seed-"):
                os.remove(os.path.join(d, old))
        for f64 in (False, True):
            ty = "f64" if f64 else "f32"
            masks = ([1, 0, 1], [0], [1], [1, 1, 0])  # mixed, fully masked, all kept, mixed
            seeds = [] if attention is True else [
                (name, row_seed(f64, z, label, t, c, r, dy, keep, masks[i % len(masks)]))
                for i, (name, z, label, t, c, r) in enumerate(rows(f64))]
            if attention:
                seeds += attention_seeds(f64, flag=attention == "both")
            for name, data in seeds:
                with open(os.path.join(d, f"seed-{ty}-{name}"), "wb") as f:
                    f.write(data)
        print(f"{target}: {len(os.listdir(d))} files in {d}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Accuracy of the 8-bit attention kernel with every n-th tile's P·V in FP8 (int8_attention.cu, -DPV_FP8_EVERY=n),
modelled in numpy against float64 attention: relative L1 of the output (‖out − ref‖₁ / ‖ref‖₁, the bar of issue 16 is
3 %).

The model follows the kernel: K minus its mean over the tokens, Q and K in INT8 with one scale per 64 tokens
(max|x|/127, round half to even), scores in base 2, P = 2^(S − m) with m the first 128-key tile's row maximum (the
kernel's lazy maximum), BF16 tiles: bf16(P) · bf16(V); FP8 tiles (tile index ≡ n − 1 mod n): e4m3(8·P)/8 ·
e4m3(V/8)·8; O / Σ P. Gaussian q, k, v.
A second table is the floor of any one-e4m3-product P·V: exact float64 scores, P scaled to 448 at each row's maximum
and V to 448 at each channel's maximum (the largest scales e4m3 takes), rounded once, one operand or both.
Usage: python3 scripts/fp8_pv_model.py [KEYS [QUERIES [SEEDS]]]   (defaults 32768, 128, 2)
"""
import sys

import numpy as np

HEAD_DIM = 128
TILE = 128


def int8_blocks(x, block=64):
    out = np.empty_like(x)
    for i in range(0, x.shape[0], block):
        b = x[i:i + block]
        scale = np.abs(b).max() / 127
        out[i:i + block] = np.round(b / scale) * scale
    return out


def e4m3(x):
    """Round to float8 e4m3 (nearest even, subnormals below 2^-6, saturated at ±448)."""
    exponent = np.maximum(np.floor(np.log2(np.maximum(np.abs(x), 1e-30))), -6)
    ulp = 2.0 ** (exponent - 3)
    return np.clip(np.round(x / ulp) * ulp, -448, 448)


def bf16(x):
    bits = np.asarray(x, np.float32).copy().view(np.uint32)
    bits += 0x7FFF + ((bits >> 16) & 1)
    bits &= 0xFFFF0000
    return bits.view(np.float32).astype(np.float64)


def gaussian_case(keys, queries, seed):
    """Gaussian q, k, v, and float64 attention's unnormalised weights P (row maximum 1) and output."""
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((queries, HEAD_DIM))
    k = rng.standard_normal((keys, HEAD_DIM))
    v = rng.standard_normal((keys, HEAD_DIM))
    s = q @ k.T / np.sqrt(HEAD_DIM)
    p = np.exp(s - s.max(1, keepdims=True))
    return q, k, v, p, p @ v / p.sum(1, keepdims=True)


def kernel_scores(q, k):
    """The kernel's scores in base 2: K minus its mean, Q and K in INT8 with one scale per 64 tokens."""
    return int8_blocks(q) @ int8_blocks(k - k.mean(0)).T / np.sqrt(HEAD_DIM) * np.log2(np.e)


def errors(keys, queries, seed, everies):
    q, k, v, _, ref = gaussian_case(keys, queries, seed)
    s8 = kernel_scores(q, k)
    p8 = np.exp2(s8 - s8[:, :TILE].max(1, keepdims=True))
    tiles = np.arange(keys) // TILE
    result = []
    for every in everies:
        fp8 = tiles % every == every - 1 if every else np.zeros(keys, bool)
        out = (bf16(p8[:, ~fp8]) @ bf16(v[~fp8]) + e4m3(8 * p8[:, fp8]) / 8 @ (e4m3(v[fp8] / 8) * 8)) \
            / p8.sum(1, keepdims=True)
        result.append(np.abs(out - ref).sum() / np.abs(ref).sum())
    return result


def floor_errors(keys, queries, seed):
    """Relative L1 of e4m3 P alone, e4m3 V alone and both, on exact scores; INT8 V per channel for comparison."""
    _, _, v, p, ref = gaussian_case(keys, queries, seed)
    total = p.sum(1, keepdims=True)
    channel_max = np.abs(v).max(0)
    p_e4m3 = e4m3(448 * p) / 448
    v_e4m3 = e4m3(v / channel_max * 448) * channel_max / 448
    v_int8 = np.round(v / channel_max * 127) * channel_max / 127
    outs = [p_e4m3 @ v, p @ v_e4m3, p_e4m3 @ v_e4m3, p @ v_int8]
    return [np.abs(out / total - ref).sum() / np.abs(ref).sum() for out in outs]


def main():
    keys = int(sys.argv[1]) if len(sys.argv) > 1 else 32768
    queries = int(sys.argv[2]) if len(sys.argv) > 2 else 128
    seeds = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    everies = [0, 4, 3, 2, 1]
    print(f"{keys} keys, {queries} queries: relative L1 against float64 attention")
    print("| seed | " + " | ".join("BF16 only" if n == 0 else f"PV_FP8_EVERY={n}" for n in everies) + " |")
    print("|---" * (len(everies) + 1) + "|")
    for seed in range(seeds):
        row = errors(keys, queries, seed, everies)
        print(f"| {seed} | " + " | ".join(f"{100 * e:.2f} %" for e in row) + " |")
    print()
    print("Exact scores, one rounding of P·V's operands: relative L1 against float64 attention")
    print("| seed | e4m3 P | e4m3 V | e4m3 P and V | INT8 V |")
    print("|---|---|---|---|---|")
    for seed in range(seeds):
        row = floor_errors(keys, queries, seed)
        print(f"| {seed} | " + " | ".join(f"{100 * e:.2f} %" for e in row) + " |")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Accuracy of an INT8 P·V whose int32 sums span several 128-key tiles (a design not built yet: issue 16's accurate
8-bit P·V with fewer conversions into O than one per tile), modelled in numpy against float64 attention.

The scores are the kernel's (fp8_pv_model.py: K minus its mean, Q and K in INT8 with one scale per 64 tokens, base 2).
V is INT8 with one scale per channel over all keys, so only P's scale changes along a row. Per window of W tiles a row
takes a reference t: u8 P' = round(255 · 2^(S − t)), the int32 sums P'·V of the window's tiles accumulate on the
tensor cores and enter O once per window, weighted 2^t / 255. Three ways to choose t:
  exact   - the window's own row maximum (needs every tile's scores of the window before its first exponential),
  clamp   - the first tile's maximum + margin, later tiles' P' clamped at 255,
  flush   - the first tile's maximum + margin; a tile whose row maximum passes t first adds the sums so far into O and
            takes its own maximum + margin (per row; reported: the share of rows and tiles with such an extra flush, and
            of warps and tiles, a warp holding 16 rows: the warp issues a flush's instructions if any of its rows
            needs one).
Gaussian q, k, v. Usage: python3 scripts/int8_pv_window_model.py [KEYS [QUERIES [SEED]]]   (defaults 32768, 128, 0)
"""
import sys

import numpy as np

from fp8_pv_model import TILE, gaussian_case, kernel_scores


def window_error(s8, v8, ref, tiles_per_window, mode, margin):
    queries, keys = s8.shape
    out = np.zeros((queries, v8.shape[1]))
    total = np.zeros((queries, 1))
    extra_flushes = 0
    warp_flushes = 0
    for start in range(0, keys, tiles_per_window * TILE):
        window = s8[:, start:start + tiles_per_window * TILE]
        if mode == "exact":
            t = window.max(1)
        else:
            t = window[:, :TILE].max(1) + margin
        sums = np.zeros_like(out)
        psums = np.zeros(queries)
        for tile in range(0, window.shape[1], TILE):
            scores = window[:, tile:tile + TILE]
            if mode == "flush":
                over = scores.max(1) > t
                extra_flushes += over.sum()
                warp_flushes += over.reshape(-1, 16).any(1).sum()
                weight = np.exp2(t[over]) / 255
                out[over] += weight[:, None] * sums[over]
                total[over, 0] += weight * psums[over]
                sums[over] = 0
                psums[over] = 0
                t[over] = scores[over].max(1) + margin
            p = np.minimum(np.round(255 * np.exp2(scores - t[:, None])), 255)
            sums += p @ v8[start + tile:start + tile + TILE]
            psums += p.sum(1)
        weight = np.exp2(t) / 255
        out += weight[:, None] * sums
        total[:, 0] += weight * psums
    result = out / total
    tiles = keys / TILE
    return (np.abs(result - ref).sum() / np.abs(ref).sum(), extra_flushes / (queries * tiles),
            warp_flushes / (queries / 16 * tiles))


def main():
    keys = int(sys.argv[1]) if len(sys.argv) > 1 else 32768
    queries = int(sys.argv[2]) if len(sys.argv) > 2 else 128
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    q, k, v, _, ref = gaussian_case(keys, queries, seed)
    s8 = kernel_scores(q, k)
    channel_max = np.abs(v).max(0)
    v8 = np.round(v / channel_max * 127) * channel_max / 127
    print(f"{keys} keys, {queries} queries, seed {seed}: relative L1 against float64 attention")
    print("| tiles per window | reference | relative L1 | extra flushes per row and tile | per warp and tile |")
    print("|---|---|---|---|---|")
    for tiles in (1, 2, 4):
        for mode, margin in (("exact", 0), ("clamp", 1), ("flush", 0.5), ("flush", 1)):
            if tiles == 1 and mode != "exact":
                continue
            error, row_flushes, warp_flushes = window_error(s8, v8, ref, tiles, mode, margin)
            name = mode if mode == "exact" else f"{mode}, margin {margin}"
            print(f"| {tiles} | {name} | {100 * error:.2f} % | {row_flushes:.3f} | {warp_flushes:.3f} |")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Sums Nsight Compute's sampled warp stalls of one kernel by reason and by SASS opcode, and lists the hottest
instructions.

Input: the CSV of `ncu --import REP --page source --csv --print-source sass` for a report taken with
`--section WarpStateStats --section SourceCounters` (see docs/benchmarks.md, GPU run 13).
Usage: python3 scripts/ncu-stalls.py SASS.csv [TOP]   (TOP: how many instructions to list, default 30)
"""
import collections
import csv
import sys


def main(path, top):
    rows = list(csv.reader(open(path, newline="")))
    header = rows[1]  # the first row names the kernel
    column = {name: i for i, name in enumerate(header)}
    reasons = [name for name in header if name.startswith("stall_") and "Not Issued" not in name]
    by_reason = collections.Counter()
    by_opcode = collections.Counter()
    reasons_by_opcode = collections.defaultdict(collections.Counter)
    instructions = []
    for row in rows[2:]:
        if len(row) < len(header):
            continue
        source = row[column["Source"]].split()
        words = [w for w in source if not w.startswith("@")]
        opcode = words[0].split(".")[0] if words else ""
        samples = int(row[column["Warp Stall Sampling (All Samples)"]] or 0)
        counts = {reason: int(row[column[reason]] or 0) for reason in reasons}
        by_opcode[opcode] += samples
        for reason, count in counts.items():
            by_reason[reason] += count
            reasons_by_opcode[opcode][reason] += count
        instructions.append((samples, row[column["Address"]], " ".join(source), counts))
    total = sum(by_opcode.values()) or 1
    print(f"{total} samples")
    print("| stall reason | share |\n|---|---|")
    for reason, count in by_reason.most_common():
        print(f"| {reason[6:]} | {100 * count / total:.1f} % |")
    print("\n| opcode | share | its top reasons |\n|---|---|---|")
    for opcode, count in by_opcode.most_common(20):
        tops = ", ".join(f"{r[6:]} {100 * c / total:.1f}" for r, c in reasons_by_opcode[opcode].most_common(4))
        print(f"| {opcode} | {100 * count / total:.1f} % | {tops} |")
    print("\n| share | address | instruction | top reasons (samples) |\n|---|---|---|---|")
    for samples, address, source, counts in sorted(instructions, key=lambda x: -x[0])[:top]:
        tops = ", ".join(f"{r[6:]} {c}" for r, c in sorted(counts.items(), key=lambda x: -x[1])[:3] if c)
        print(f"| {100 * samples / total:.2f} % | {address} | `{source[:70]}` | {tops} |")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 30)

"""Paired comparison of two recipes' DEC runs: the same seeds, data sets and machine.

For each data set, the runs of recipe A and recipe B that share a seed are paired; the table
gives each recipe's median [min, max] DEC ACC, the paired differences A - B (median, min and
max), a two-sided sign test on them, each recipe's seed-to-seed spread (max - min), and the
ratio of their median fit times.  A recipe is better only where every paired difference is
positive and their median exceeds both recipes' spreads, over at least five seeds; the
verdict column says so.

    python benchmarks/paired.py docs/results/fast_default.jsonl \\
        --a dae-adam-fast-shift --b adam --a-plain --b-plain [--machine EPYC]

A record is one JSON line of ``benchmarks/recipes.py run``; ``--a-plain`` / ``--b-plain`` keep
the runs fitted without ``image_shape`` (``recipes.py run --plain``), otherwise those with it.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from statistics import median


def sign_test(diffs):
    """Two-sided sign test p-value of the non-zero ``diffs`` (ties dropped)."""
    pos, neg = sum(d > 0 for d in diffs), sum(d < 0 for d in diffs)
    n = pos + neg
    if n == 0:
        return 1.0
    k = min(pos, neg)
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n)


def runs(rows, tag, plain, machine=None):
    """{(dataset, seed): record} of ``tag``, fitted with or without image_shape."""
    out = {}
    for r in rows:
        if r.get("recipe") != tag or "dec_acc" not in r:
            continue
        # records older than recipes.py's --plain (commit 1d2590d) have no "image_shape":
        # every one of them was fitted with the data set's image shape
        if ("image_shape" in r and r["image_shape"] is None) != plain:
            continue
        if machine and machine not in r.get("machine", ""):
            continue
        out[(r["dataset"], r["seed"])] = r
    return out


def compare(rows, a, b, a_plain=False, b_plain=False, machine=None, key="dec_acc"):
    """The table's rows: one dict per data set with both recipes' paired seeds."""
    A, B = runs(rows, a, a_plain, machine), runs(rows, b, b_plain, machine)
    table = []
    for ds in sorted({d for d, _ in A} & {d for d, _ in B}):
        seeds = sorted(s for d, s in A if d == ds and (d, s) in B)
        if not seeds:
            continue
        va = [A[(ds, s)][key] for s in seeds]
        vb = [B[(ds, s)][key] for s in seeds]
        diffs = [x - y for x, y in zip(va, vb)]
        spread = max(max(va) - min(va), max(vb) - min(vb))
        ta = median(A[(ds, s)]["total_s"] for s in seeds)
        tb = median(B[(ds, s)]["total_s"] for s in seeds)
        if len(seeds) < 5:  # one or two seeds have no spread worth the name
            verdict = f"{len(seeds)} seed(s): no verdict"
        elif all(d > 0 for d in diffs) and median(diffs) > spread:
            verdict = "A better"
        elif all(d < 0 for d in diffs) and -median(diffs) > spread:
            verdict = "B better"
        else:
            verdict = "within the spread"
        table.append({"dataset": ds, "seeds": seeds, "a": va, "b": vb, "diffs": diffs,
                      "sign_p": sign_test(diffs), "spread": spread, "time_ratio": ta / tb,
                      "verdict": verdict})
    return table


def fmt(values):
    return f"{median(values):.3f} [{min(values):.3f}, {max(values):.3f}]"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--a", required=True, help="recipe tag A")
    ap.add_argument("--b", required=True, help="recipe tag B")
    ap.add_argument("--a-plain", action="store_true", help="A's runs without image_shape")
    ap.add_argument("--b-plain", action="store_true", help="B's runs without image_shape")
    ap.add_argument("--machine", default=None, help="only records whose machine contains this")
    ap.add_argument("--key", default="dec_acc", help="the record's figure (default dec_acc)")
    args = ap.parse_args(argv)
    rows = []
    for path in args.files:
        with open(path) as fh:
            rows += [json.loads(line) for line in fh if line.strip()]
    table = compare(rows, args.a, args.b, args.a_plain, args.b_plain, args.machine, args.key)
    name = lambda tag, plain: f"{tag} ({'plain' if plain else 'image_shape'})"
    print(f"A = {name(args.a, args.a_plain)}, B = {name(args.b, args.b_plain)}: {args.key}")
    print_table(table)
    return 0 if table else 1


def print_table(table):
    """Print the rows of :func:`compare` as a Markdown table."""
    print("| data set | seeds | A: median [min, max] | B: median [min, max] | A - B: median "
          "[min, max] | sign test p | spread | time A / B | verdict |")
    print("|---|---|---|---|---|---|---|---|---|")
    for t in table:
        print(f"| {t['dataset']} | {','.join(map(str, t['seeds']))} | {fmt(t['a'])} | "
              f"{fmt(t['b'])} | {median(t['diffs']):+.3f} [{min(t['diffs']):+.3f}, "
              f"{max(t['diffs']):+.3f}] | {t['sign_p']:.3f} | {t['spread']:.3f} | "
              f"{t['time_ratio']:.2f} | {t['verdict']} |")


if __name__ == "__main__":
    sys.exit(main())

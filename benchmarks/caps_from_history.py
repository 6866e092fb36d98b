"""What a lower cap on the clustering phase would give, read off recorded runs' histories.

A run of ``benchmarks/clustering_arms.py`` records its ACC at every target update
(``history``: ``iteration`` and ``acc``).  A cap stops the loop only at an update, so the ACC
at cap c is the one at the last update at or before c (the run's end where it stopped earlier
by the ``tol`` test).  For each data set and each cap, the table pairs every seed's ACC at
that cap with its ACC at ``--reference`` (the default's 2,520) and gives the differences'
median, min and max:

    python benchmarks/caps_from_history.py docs/results/clustering_mask_xeon.jsonl \\
        docs/results/clustering_mnist70k_plain_xeon.jsonl \\
        docs/results/clustering_mnist10k_plain_history_xeon.jsonl --tag none --caps 1400 1680
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent))
from clustering_arms import at_cap  # noqa: E402  (the read-off that script writes ARM@CAP by)


def acc_at(history, cap):
    """ACC at the last target update at or before ``cap`` (``history``: iteration, acc)."""
    if not any(i <= cap for i in history["iteration"]):
        raise ValueError(f"no target update at or before iteration {cap}")
    return at_cap(history, cap)[0]


def table(rows, tag, caps, reference=2520):
    """Markdown lines: per data set and cap, the paired differences from ``reference``.

    Rows fitted as images (an ``image_shape``) are a data set of their own, "NAME (images)";
    a seed recorded twice in one group is a ValueError.
    """
    by_set = {}
    for r in rows:
        if r.get("recipe") == tag and r.get("history"):
            name = r["dataset"] + (" (images)" if r.get("image_shape") else "")
            if any(o["seed"] == r["seed"] for o in by_set.get(name, [])):
                raise ValueError(f"seed {r['seed']} of {name} is recorded twice under {tag!r}")
            by_set.setdefault(name, []).append(r)
    lines = [f"| data set | seeds | cap | ACC at the cap - ACC at {reference:,}: median "
             "[min, max] | seeds lower |", "|---|---|---|---|---|"]
    for ds in sorted(by_set):
        runs = sorted(by_set[ds], key=lambda r: r["seed"])
        seeds = ",".join(str(r["seed"]) for r in runs)
        for cap in caps:
            d = [acc_at(r["history"], cap) - acc_at(r["history"], reference) for r in runs]
            lines.append(f"| {ds} | {seeds} | {cap:,} | {median(d):+.4f} [{min(d):+.4f}, "
                         f"{max(d):+.4f}] | {sum(x < 0 for x in d)} of {len(d)} |")
    return lines


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--tag", default="none", help="the arm whose runs are read (default none)")
    ap.add_argument("--caps", type=int, nargs="+", required=True)
    ap.add_argument("--reference", type=int, default=2520)
    args = ap.parse_args(argv)
    rows = [json.loads(line) for f in args.files for line in open(f) if line.strip()]
    print("\n".join(table(rows, args.tag, args.caps, args.reference)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

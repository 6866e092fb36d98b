"""How near k-means' restarts come to one another on the default's embeddings, and what three
ways of picking one of them give.

    python benchmarks/kmeans_picks.py --datasets mnist-test usps fashion-mnist --seeds 0 1 2 3 4 \\
        --cache DIR --data-dir ../shared/data --runs 40 --out docs/results/kmeans_picks_xeon.jsonl
    python benchmarks/kmeans_picks.py --table docs/results/kmeans_picks_xeon.jsonl

For each seed the default's autoencoder pretrained on the rows read as a plain array (the
pickles ``benchmarks/clustering_arms.py --cache DIR`` keeps) embeds the data, and ``--runs``
single k-means runs (k-means++ then Lloyd, :mod:`dec_np.kmeans`, one generator) partition z.
Labels are used for scoring only.  Each record gives, per way of picking one run:

* ``inertia``: the lowest inertia, what ``kmeans(n_init=...)`` and so ``DEC`` keep;
* ``balance``: among the runs within ``--tol`` of the lowest inertia, the one whose largest
  cluster is smallest (a merged pair of classes makes one cluster large);
* ``consensus``: the run whose mean NMI with the other runs is highest;
* ``best``: the run of highest ACC (an oracle, for scale);

and ``gap``, the best run's inertia over the lowest, minus one.
"""
from __future__ import annotations

import argparse
import datetime
import json
import pickle
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
try:
    import dec_np  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recipes import DATASETS, _commit, _machine, emit  # noqa: E402

from dec_np.cli import dec_input, load_data  # noqa: E402
from dec_np.kmeans import kmeans_plusplus, lloyd  # noqa: E402
from dec_np.metrics import cluster_accuracy, nmi  # noqa: E402
from dec_np.threads import host_threads  # noqa: E402

PICKS = ("inertia", "balance", "consensus", "best")


def runs_on(z, k, runs, rng):
    """``runs`` single k-means runs on z: their labels and inertias."""
    labels, inertias = [], []
    for _ in range(runs):
        _, lab, inertia, _ = lloyd(z, kmeans_plusplus(z, k, rng))
        labels.append(np.asarray(lab))
        inertias.append(float(inertia))
    return labels, np.array(inertias)


def picks(labels, inertias, k, tol):
    """The index of the run each way of picking keeps (``best`` is left to the caller)."""
    agree = np.array([np.mean([nmi(a, b) for j, b in enumerate(labels) if j != i])
                      for i, a in enumerate(labels)])
    near = np.flatnonzero(inertias <= inertias.min() * (1 + tol))
    largest = np.array([np.bincount(lab, minlength=k).max() for lab in labels])
    return {"inertia": int(inertias.argmin()), "balance": int(near[largest[near].argmin()]),
            "consensus": int(agree.argmax())}


def table(path):
    """Median [min, max] of each pick's ACC per data set, and its paired difference with
    ``inertia``'s."""
    rows = [json.loads(line) for line in open(path) if line.strip()]
    for ds in dict.fromkeys(r["dataset"] for r in rows):
        rs = [r for r in rows if r["dataset"] == ds]
        base = np.array([r["acc"]["inertia"] for r in rs])
        print(f"{ds} ({len(rs)} seeds), AE + k-means ACC; gap of the best run: "
              f"{min(r['gap'] for r in rs):+.4f} to {max(r['gap'] for r in rs):+.4f}")
        for p in PICKS:
            a = np.array([r["acc"][p] for r in rs])
            d = a - base
            print(f"  {p:10s} {np.median(a):.3f} [{a.min():.3f}, {a.max():.3f}]   minus inertia's: "
                  f"{np.median(d):+.3f} [{d.min():+.3f}, {d.max():+.3f}]")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", nargs="+", default=["mnist-test"])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--cache", help="clustering_arms.py's folder of pretrained autoencoders")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--tol", type=float, default=0.005)
    ap.add_argument("--out", default=None)
    ap.add_argument("--table", default=None, help="print the table of a records file and stop")
    args = ap.parse_args(argv)
    if args.table:
        return table(args.table)
    for ds in args.datasets:
        X, y, _ = load_data(ds, args.data_dir, n_samples=DATASETS[ds])
        X, y = np.asarray(X), np.asarray(y)
        Xs = dec_input(X, "default", False)
        for seed in args.seeds:
            sae = pickle.loads((Path(args.cache) / f"sae_{ds}_{seed}.pkl").read_bytes())[0]
            with host_threads(1):
                z = np.asarray(sae.encode(Xs))
                labels, inertias = runs_on(z, 10, args.runs, np.random.default_rng(seed))
            acc = np.array([cluster_accuracy(y, lab) for lab in labels])
            chosen = picks(labels, inertias, 10, args.tol)
            chosen["best"] = int(acc.argmax())
            emit({"dataset": ds, "seed": seed, "runs": args.runs, "tol": args.tol,
                  "acc": {p: float(acc[i]) for p, i in chosen.items()},
                  "gap": float(inertias[chosen["best"]] / inertias.min() - 1),
                  "acc_range": [float(acc.min()), float(acc.max())],
                  "commit": _commit(), "date": datetime.date.today().isoformat(),
                  "machine": _machine()}, args.out)


if __name__ == "__main__":
    main()

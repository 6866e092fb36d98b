"""Shifted images in the clustering phase against the default, paired: same seed, same pretraining.

For each data set and seed the default schedule pretrains one autoencoder (with the data's
``image_shape``, as ``DEC(image_shape=...)`` does); from it, two clustering phases run with the
same k-means start: the paper's step (``augment=None``, recorded as recipe ``default``) and the
step on shifted images (``augment={"shift": f}``, recorded as ``default+shift``).  One JSON line
per fit, in the format of ``benchmarks/recipes.py run``, so that

    python benchmarks/augment_runs.py --data-dir ../shared/data --datasets usps --seeds 0 1 2 3 4 \\
        --out docs/results/augment_paired.jsonl --cache /tmp/sae
    python benchmarks/augment_runs.py --table docs/results/augment_paired.jsonl --caps 4200

gives the paired tables (``benchmarks/paired.py`` reads the same records).  ``--max-iter N``
caps the shifted arm itself (recorded as ``default+shift@N``) where the uncapped arm would
take too long, as on all 70,000 MNIST images; ``--rotate D`` also turns its images by up to D
degrees (``default+shift+rotD``).  ``total_s`` of a record is the shared pretraining plus that arm's
clustering phase; ``history`` keeps the ACC at every target update, so the ACC that a cap on the
clustering iterations would have given can be read from the record.  Fits already recorded in
--out are skipped (the script resumes); with --cache the pretrained autoencoders are kept there
(never in the repository) and reused.
"""
from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

try:
    import dec_np  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dec_np import DEC  # noqa: E402
from dec_np.checkpoint import load_autoencoder, save_autoencoder  # noqa: E402
from dec_np.cli import load_data, pretrain  # noqa: E402
from dec_np.metrics import ari, cluster_accuracy, nmi  # noqa: E402
from dec_np.threads import host_threads, resolve_n_jobs  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from recipes import DATASETS, _commit, _done, _machine, emit  # noqa: E402

HIDDEN = (500, 500, 2000, 10)


def _pretrained(X, shape, seed, n_jobs, cache, name):
    """The default's autoencoder for ``seed`` (from --cache when there) and its seconds."""
    path = None if cache is None else Path(cache) / f"sae_{name}_seed{seed}.npz"
    if path is not None and path.exists():
        meta = json.loads(path.with_suffix(".json").read_text())
        return load_autoencoder(path), meta["pretrain_s"]
    t0 = time.perf_counter()
    with host_threads(n_jobs):
        sae = pretrain(X, HIDDEN, "default", None, seed, False, shape)
    seconds = time.perf_counter() - t0
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        save_autoencoder(sae, path)
        path.with_suffix(".json").write_text(json.dumps({"pretrain_s": seconds}))
    return sae, seconds


def capped(row, cap):
    """What ``row`` (a fit with y) would have been with ``max_iter=cap``: a derived record.

    The fit stops at the first target update at or past ``cap`` (or where it stopped, if
    earlier), and its labels are those of that update, so its ACC is the history's there; the
    clustering time is scaled by the iterations kept (k-means, a second or so, included).
    """
    it, acc = row["history"]["iteration"], row["history"]["acc"]
    stop = next((i for i, t in enumerate(it) if t >= cap), len(it) - 1)
    kept = min(it[stop], row["n_iter"]) / max(row["n_iter"], 1)
    cluster_s = row["cluster_s"] * kept
    return dict(row, recipe=f"{row['recipe']}@{cap}", dec_acc=acc[stop], n_iter=it[stop],
                dec_nmi=None, dec_ari=None, cluster_s=cluster_s,
                total_s=row["pretrain_s"] + cluster_s)


def table(paths, caps=(), against="default"):
    """Print the paired tables: each arm against ``against`` (the default without shifts,
    or another arm such as ``default+shift@4200``), then each cap against it."""
    from paired import compare, print_table  # benchmarks/paired.py

    rows = []
    for path in paths:
        with open(path) as fh:
            rows += [json.loads(line) for line in fh if line.strip()]
    arms = sorted({r["recipe"] for r in rows if r["recipe"] != "default"},
                  key=lambda name: ("@" in name, name.count("+"), name))
    rows += [capped(r, c) for c in caps for r in rows
             if r["recipe"] != "default" and "@" not in r["recipe"]]
    names = arms + [f"{a}@{c}" for c in caps for a in arms if "@" not in a]
    for a in sorted(set(names), key=names.index):  # a real capped arm and a derived one: once
        if a == against:
            continue
        print(f"\nA = {a}, B = {against} (same seed, same pretrained autoencoder): DEC ACC")
        print_table(compare(rows, a, against))


def main(argv=None):
    """Run the paired fits; one JSON line each on stdout and in --out (or, with --table,
    print the paired tables of such records)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--table", nargs="+", default=None, metavar="FILE",
                    help="print the paired tables of these records instead of running")
    ap.add_argument("--caps", nargs="*", type=int, default=[],
                    help="with --table: also the shifted fits cut at these iterations")
    ap.add_argument("--against", default="default",
                    help="with --table: the arm every other is paired with (default: default)")
    ap.add_argument("--datasets", nargs="+", default=["mnist-test", "usps", "fashion-mnist"],
                    choices=list(DATASETS) + ["mnist", "digits"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    ap.add_argument("--shift", type=float, default=0.1,
                    help="the largest shift, as a fraction of the image's side (default 0.1)")
    ap.add_argument("--rotate", type=float, default=0.0,
                    help="the shifted arm also turns each image by up to this many degrees "
                         "(recorded as default+shift+rotD)")
    ap.add_argument("--max-iter", type=int, default=None,
                    help="cap the shifted arm's clustering iterations (recorded as "
                         "default+shift@N; the arm without shifts keeps DEC's default)")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--n-jobs", type=int, default=None,
                    help="DEC's n_jobs: an int gives the same results for every value; "
                         "none: BLAS's own threads, DEC's default")
    ap.add_argument("--out", default=None, help="append the JSON lines to this file")
    ap.add_argument("--cache", default=None, help="keep the pretrained autoencoders here")
    args = ap.parse_args(argv)
    if args.table:
        return table(args.table, args.caps, args.against)
    commit, jobs = _commit(), resolve_n_jobs(args.n_jobs)
    shifted, augment = "default+shift", {"shift": args.shift}
    if args.rotate:
        shifted, augment = f"default+shift+rot{args.rotate:g}", dict(augment, rotate=args.rotate)
    if args.max_iter is not None:
        shifted += f"@{args.max_iter}"
    arms = (("default", None, None), (shifted, augment, args.max_iter))
    for name in args.datasets:
        X, y, shape = load_data(name, args.data_dir, n_samples=DATASETS.get(name))
        for seed in args.seeds:
            todo = [(tag, aug, cap) for tag, aug, cap in arms
                    if not (args.out and _done(args.out, tag, name, seed, shape))]
            if not todo:
                continue
            sae, t_pre = _pretrained(X, shape, seed, args.n_jobs, args.cache, name)
            for tag, augment, cap in todo:
                t0 = time.perf_counter()
                extra = {} if cap is None else {"max_iter": cap}
                m = DEC(10, autoencoder=sae, image_shape=shape, random_state=seed,
                        augment=augment, n_jobs=args.n_jobs, **extra).fit(X, y)
                t_dec = time.perf_counter() - t0
                h = m.history_
                row = {"recipe": tag, "dataset": name, "n": len(X), "seed": seed,
                       "ae_kmeans_acc": cluster_accuracy(y, m.init_labels_),
                       "dec_acc": cluster_accuracy(y, m.labels_), "dec_nmi": nmi(y, m.labels_),
                       "dec_ari": ari(y, m.labels_), "n_iter": m.n_iter_,
                       "pretrain_s": t_pre, "cluster_s": t_dec, "total_s": t_pre + t_dec,
                       "schedule": "default", "augment": augment,
                       "n_jobs": jobs or "blas", "image_shape": shape,
                       "history": {"iteration": [int(i) for i in h["iteration"]],
                                   "acc": [round(float(a), 4) for a in h["acc"]]},
                       "commit": commit, "date": datetime.date.today().isoformat(),
                       "machine": _machine(), "hidden_dims": list(HIDDEN), "backend": "numpy"}
                emit(row, args.out)

if __name__ == "__main__":
    sys.exit(main())

"""Why does a seed start DEC low?  Pretrain as ``DEC`` does, then take its k-means start apart.

    OPENBLAS_NUM_THREADS=2 python benchmarks/start_diagnosis.py --dataset mnist --seed 1 \
        --data-dir ../shared/data [--schedule NAME] [--restarts 200] [--out FILE.json]

Pretrains exactly as ``DEC(10, schedule=..., image_shape=..., random_state=seed).fit(X)``
does and runs its k-means (20 restarts), with the encoder frozen and one DEC iteration, so
the start is that of the full run.  Then it prints

* the start's ACC and its k-means inertia, and for each cluster its two largest classes;
* Lloyd's iterations started from the class means of z (labels used for diagnosis only):
  if they end at a lower inertia than the start's, the restarts missed a better partition of
  the same embedding (a search problem); if higher, the embedding itself favours the start;
* k-means with ``--restarts`` restarts from another seed: whether more restarts find it.

One JSON object goes to stdout (and to ``--out``).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dec_np import DEC  # noqa: E402
from dec_np.cli import load_data  # noqa: E402
from dec_np.kmeans import kmeans, lloyd, squared_distances  # noqa: E402
from dec_np.metrics import cluster_accuracy, nmi  # noqa: E402
from dec_np.schedules import DEFAULT  # noqa: E402


def inertia(z, centers):
    """k-means' objective sum_i min_j |z_i - mu_j|^2, in float64."""
    d = squared_distances(np.asarray(z, np.float64), np.asarray(centers, np.float64))
    return float(d.min(1).sum())


def composition(y, labels, k):
    """For each cluster: its size and its two largest classes with their shares."""
    rows = []
    for j in range(k):
        members = y[labels == j]
        counts = np.bincount(members, minlength=int(y.max()) + 1)
        top = np.argsort(counts)[::-1][:2]
        rows.append({"cluster": j, "size": int(members.size),
                     "classes": {int(c): round(counts[c] / max(members.size, 1), 3) for c in top}})
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="mnist")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--schedule", default=DEFAULT)
    ap.add_argument("--data-dir")
    ap.add_argument("--restarts", type=int, default=200)
    ap.add_argument("--out")
    args = ap.parse_args(argv)
    X, y, shape = load_data(args.dataset, args.data_dir)
    y = np.asarray(y)
    t0 = time.perf_counter()
    m = DEC(10, schedule=args.schedule, image_shape=shape, random_state=args.seed,
            update_encoder=False, max_iter=1).fit(X)
    z = m.transform(X)  # the encoder is frozen: this is the z that k-means saw
    start = {"acc": cluster_accuracy(y, m.init_labels_), "nmi": nmi(y, m.init_labels_),
             "inertia": inertia(z, m.init_centers_),
             "clusters": composition(y, m.init_labels_, 10)}
    means = np.stack([z[y == c].mean(0) for c in range(10)])
    mu, labels, _, n_iter = lloyd(z, means)
    from_means = {"acc": cluster_accuracy(y, labels), "nmi": nmi(y, labels),
                  "inertia": inertia(z, mu), "lloyd_iterations": int(n_iter)}
    mu, labels, _ = kmeans(z, 10, n_init=args.restarts, random_state=args.seed + 1000)
    more = {"restarts": args.restarts, "acc": cluster_accuracy(y, labels),
            "nmi": nmi(y, labels), "inertia": inertia(z, mu)}
    out = {"dataset": args.dataset, "seed": args.seed, "schedule": args.schedule,
           "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"), "start": start,
           "lloyd_from_class_means": from_means, "kmeans_more_restarts": more,
           "seconds": round(time.perf_counter() - t0, 1)}
    text = json.dumps(out, indent=1)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()

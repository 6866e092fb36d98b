"""Tell a change of code from a change of machine: one default DEC run of a given checkout.

Fits ``DEC(10, random_state=SEED).fit(X)`` on the MNIST test set with the dec_np of CHECKOUT
(a folder holding ``dec_np/``, e.g. a ``git worktree`` of an older commit) and prints one JSON
line: AE + k-means ACC, DEC ACC, the last fine-tuning loss and the times.  Two checkouts run
side by side on one machine give identical lines when their code computes the same thing.
No ``image_shape`` is passed, so every checkout since round 7 pretrains with unshifted Adam
(the default "adam-shift" shifts only rows declared to be images).

    git worktree add /tmp/old 7d4a6a6
    OPENBLAS_NUM_THREADS=1 python benchmarks/same_run.py /tmp/old --data-dir ../shared/data &
    OPENBLAS_NUM_THREADS=1 python benchmarks/same_run.py . --data-dir ../shared/data
"""
import argparse
import json
import sys
import time
from pathlib import Path

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("checkout")
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--data-dir", default=None)
args = ap.parse_args()
sys.path.insert(0, str(Path(args.checkout).resolve()))

from dec_np import DEC  # noqa: E402
from dec_np.datasets import load_mnist  # noqa: E402
from dec_np.metrics import cluster_accuracy  # noqa: E402

X, y = load_mnist(args.data_dir, subset="test", download=False)
t0 = time.perf_counter()
m = DEC(10, random_state=args.seed).fit(X, y)
print(json.dumps({"checkout": args.checkout, "seed": args.seed,
                  "ae_kmeans_acc": cluster_accuracy(y, m.init_labels_),
                  "dec_acc": cluster_accuracy(y, m.labels_), "n_iter": m.n_iter_,
                  "last_finetune_loss": m.autoencoder_.history_["finetune"][-1],
                  "pretrain_s": m.pretrain_time_, "total_s": time.perf_counter() - t0}))

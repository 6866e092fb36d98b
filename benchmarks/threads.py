"""Host threads against BLAS threads: time per training step, and whether the numbers agree.

    python benchmarks/threads.py [--steps 200] [--rows 20000]

Trains the d-500-500-2000-10 autoencoder (d = 784) on random binary images from the same
start under four settings, in one process, one after another, twice over (the faster of the
two rounds counts):

* ``n_jobs=1``: BLAS on one thread, everything in one thread;
* ``n_jobs=2``: BLAS on one thread, dW beside dx and the optimiser's pieces on two threads
  (:mod:`dec_np.threads`);
* ``blas, 1`` and ``blas, 2``: BLAS's own threads (threadpoolctl's limit), the package's
  work in one thread, as before ``n_jobs`` existed.

Each setting runs ``--steps`` layer-wise steps per depth (SGD, batch 64, dropout) and
``--steps`` fine-tuning steps (Adam, batch 256, shifted images).  Printed: milliseconds per
step of each stage and the ratio to ``n_jobs=1``, then whether the weights equal those of
``n_jobs=1`` to the bit.  A shared machine's absolute times drift; the ratios in one run hold.
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np

try:
    import dec_np  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from threadpoolctl import threadpool_limits  # noqa: E402

from dec_np import StackedAutoencoder  # noqa: E402
from dec_np.augment import shifter  # noqa: E402
from dec_np.threads import host_threads  # noqa: E402

SETTINGS = (("n_jobs=1", 1, None), ("n_jobs=2", 2, None), ("blas, 1", "blas", 1),
            ("blas, 2", "blas", 2))


def train(X, steps, n_jobs, blas):
    """(ms per layer-wise step, ms per fine-tuning step, the weights) of one setting."""
    sae = StackedAutoencoder(random_state=0)
    with threadpool_limits(limits=blas, user_api="blas"), host_threads(n_jobs):
        t0 = time.perf_counter()
        sae.pretrain_layerwise(X, iterations=steps, batch_size=64, lr=1.0 / 784, optimizer="sgd")
        t1 = time.perf_counter()
        sae.finetune(X, iterations=steps, batch_size=256, lr=1e-3, optimizer="adam",
                     augment=shifter((28, 28), 0.1))
        t2 = time.perf_counter()
    n_layers = len(sae.encoders)
    return (1e3 * (t1 - t0) / (steps * n_layers), 1e3 * (t2 - t1) / steps,
            {k: v.copy() for k, v in sae.params.items()})


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--rows", type=int, default=20000)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    X = (rng.random((args.rows, 784), dtype=np.float32) < 0.2).astype(np.float32)
    best, weights = {}, {}
    for _ in range(2):
        for name, n_jobs, blas in SETTINGS:
            lw, ft, w = train(X, args.steps, n_jobs, blas)
            old = best.get(name, (np.inf, np.inf))
            best[name] = (min(old[0], lw), min(old[1], ft))
            weights[name] = w
    base = best["n_jobs=1"]
    print(f"{args.steps} steps per stage, {args.rows} rows; ms per step (ratio to n_jobs=1)")
    print("| setting | layer-wise step (batch 64) | fine-tuning step (batch 256) | "
          "weights equal n_jobs=1's |")
    print("|---|---|---|---|")
    for name, _, _ in SETTINGS:
        lw, ft = best[name]
        same = all(np.array_equal(weights[name][k], weights["n_jobs=1"][k])
                   for k in weights[name])
        print(f"| {name} | {lw:.2f} ({lw / base[0]:.2f}x) | {ft:.1f} ({ft / base[1]:.2f}x) | "
              f"{'yes' if same else 'no'} |")


if __name__ == "__main__":
    main()

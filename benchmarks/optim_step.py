"""Time one optimiser step over the weights of the d-500-500-2000-10 autoencoder (d = 784).

    OPENBLAS_NUM_THREADS=1 python benchmarks/optim_step.py

SGD with momentum and Adam side by side in one process (best of three rounds of 100 steps),
so the ratio holds on a busy machine where the absolute times do not.
"""
import sys
import time
from pathlib import Path

import numpy as np

try:
    import dec_np  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dec_np.optim import SGD, Adam  # noqa: E402

DIMS = (784, 500, 500, 2000, 10)


def main():
    rng = np.random.default_rng(0)
    shapes = []
    for a, b in zip(DIMS[:-1], DIMS[1:]):  # encoder and decoder: W and b of each layer
        shapes += [(a, b), (b,), (b, a), (a,)]
    P = {str(i): rng.standard_normal(s).astype(np.float32) for i, s in enumerate(shapes)}
    G = {k: rng.standard_normal(v.shape).astype(np.float32) * 1e-3 for k, v in P.items()}
    best = {}
    for _ in range(3):
        for name, opt in (("SGD, momentum 0.9", SGD(0.01, momentum=0.9)), ("Adam", Adam())):
            opt.step(P, G)
            t0 = time.perf_counter()
            for _ in range(100):
                opt.step(P, G)
            ms = (time.perf_counter() - t0) * 10
            best[name] = min(best.get(name, ms), ms)
    n = sum(v.size for v in P.values()) / 1e6
    for name, ms in best.items():
        print(f"{name}: {ms:.1f} ms per step over {n:.2f} M weights")
    print(f"Adam / SGD: {best['Adam'] / best['SGD, momentum 0.9']:.2f}")


if __name__ == "__main__":
    main()

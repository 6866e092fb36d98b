"""The optimisers' update in pieces of different lengths: time per step, and the same bits.

    python benchmarks/optim_pieces.py [--rounds 5] [--steps 50]

On the host, :class:`dec_np.optim.SGD` and :class:`dec_np.optim.Adam` update the weights
piece by piece, so that the pieces of weights, gradient, moments and scratch stay in the
cache from one operation to the next: ``dec_np.optim.CHUNK`` elements a piece, times the
number of host threads that share the pieces (Adam's; SGD's update runs in the calling
thread).  This times one step over the weights of the d-500-500-2000-10 autoencoder (d = 784,
laid end to end as a :class:`~dec_np.StackedAutoencoder` keeps them) for several piece
lengths, under ``host_threads(1)`` and ``host_threads(2)``, all settings
alternated in one process (the best round counts, so the ratios hold on a busy machine), and
checks that every piece length gives the same weights to the bit.
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

from dec_np import optim  # noqa: E402
from dec_np.backend import end_to_end  # noqa: E402
from dec_np.threads import host_threads, threads_for  # noqa: E402

DIMS = (784, 500, 500, 2000, 10)
CHUNKS = (1 << 14, 1 << 15, 1 << 16, 1 << 17, 1 << 18, 1 << 20)


def weights(seed):
    """The autoencoder's W and b shapes (encoder, then decoder), laid end to end."""
    shapes = []
    for a, b in zip(DIMS[:-1], DIMS[1:]):
        shapes += [(a, b), (b,)]
    for a, b in zip(DIMS[:0:-1], DIMS[-2::-1]):
        shapes += [(a, b), (b,)]
    rng = np.random.default_rng(seed)
    arrays = end_to_end([rng.standard_normal(s).astype(np.float32) for s in shapes])
    return dict(zip(map(str, range(len(shapes))), arrays))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=50)
    args = ap.parse_args(argv)
    G = weights(1)
    for g in G.values():
        g *= 1e-3
    n = sum(g.size for g in G.values()) / 1e6
    default = optim.CHUNK
    for name, make in (("SGD, momentum 0.9", lambda: optim.SGD(0.01, momentum=0.9)),
                       ("Adam", optim.Adam)):
        best, result = {}, {}
        for _ in range(args.rounds):
            for jobs in (1, 2):
                for c in CHUNKS:
                    optim.CHUNK = c
                    P, opt = weights(0), make()
                    with host_threads(jobs):
                        opt.step(P, G)
                        t0 = time.perf_counter()
                        for _ in range(args.steps):
                            opt.step(P, G)
                        ms = (time.perf_counter() - t0) * 1e3 / args.steps
                    best[jobs, c] = min(best.get((jobs, c), np.inf), ms)
                    result[jobs, c] = P
        optim.CHUNK = default
        threads = 1
        with host_threads(2):
            if name == "Adam":
                threads = threads_for(G["0"])
        print(f"\n{name}, {n:.2f} M weights: ms per step (the package's CHUNK is {default}; "
              f"pieces of CHUNK x {threads} elements with n_jobs=2)")
        print("| CHUNK | n_jobs=1 | n_jobs=2 | weights equal |")
        print("|---|---|---|---|")
        ref = result[1, default]
        for c in CHUNKS:
            same = all(np.array_equal(result[j, c][k], ref[k]) for j in (1, 2) for k in ref)
            print(f"| {c} | {best[1, c]:.2f} | {best[2, c]:.2f} | {'yes' if same else 'no'} |")


if __name__ == "__main__":
    main()

"""How a layer's forward product shares out over two threads, and what a hand-over costs.

Times ``x @ W`` for a batch of 64 rows through the 784 x 500 layer (float32): in one thread
with BLAS on one thread; as two row halves on two host threads (each reads all of W); as two
column halves (each reads half of W, cut at column 256, the first part in the calling
thread, as ``dec_np.layers.Dense`` cuts); and on BLAS's own two threads.  Then the same
whole product run in a worker thread rather than here (one hand-over per call, and 100 calls
in one hand-over) and a hand-over of nothing, to show the cost of handing work over; and
SGD's update with momentum (four passes) over 784,000 weights in pieces of 65,536, in one
host thread and shared between two (``dec_np.threads.split``).  Best of three rounds,
milliseconds per call:

    python benchmarks/split_products.py
"""
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from threadpoolctl import threadpool_limits

from dec_np.threads import host_threads, split


def per_call(fn, calls=500, rounds=3):
    """Milliseconds per call of ``fn``: the best of ``rounds`` rounds after a warm-up."""
    for _ in range(20):
        fn()
    best = np.inf
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - t) / calls * 1e3)
    return best


def main():
    rng = np.random.default_rng(0)
    x = rng.random((64, 784), dtype=np.float32)
    W = rng.random((784, 500), dtype=np.float32)
    out = np.empty((64, 500), np.float32)
    pool = ThreadPoolExecutor(1)

    def halves(first, second):
        done = pool.submit(first)
        second()
        done.result()

    rows = lambda s: np.matmul(x[s], W, out=out[s])  # noqa: E731
    cols = lambda s: np.matmul(x, W[:, s], out=out[:, s])  # noqa: E731
    with threadpool_limits(1, user_api="blas"):
        times = {
            "one call, one thread": per_call(lambda: np.matmul(x, W, out=out)),
            "two row halves, two threads": per_call(
                lambda: halves(lambda: rows(slice(0, 32)), lambda: rows(slice(32, 64)))),
            "two column halves, two threads": per_call(
                lambda: halves(lambda: cols(slice(256, 500)), lambda: cols(slice(0, 256)))),
            "one call in the worker thread": per_call(
                lambda: pool.submit(np.matmul, x, W, out=out).result()),
            # the same calls looped inside one hand-over: the product itself runs as fast
            # there, so what the line above adds is the hand-over
            "100 calls looped in the worker": per_call(lambda: pool.submit(
                lambda: [np.matmul(x, W, out=out) for _ in range(100)]).result(), calls=5) / 100,
            "a hand-over of nothing": per_call(lambda: pool.submit(lambda: None).result()),
        }
    with threadpool_limits(2, user_api="blas"):
        times["one call, BLAS's two threads"] = per_call(lambda: np.matmul(x, W, out=out))
    print("x @ W, x 64 x 784, W 784 x 500, float32: ms per call (best of 3 rounds)")
    for name, ms in times.items():
        print(f"{name:32s} {ms:6.3f}")

    n, chunk = 784_000, 1 << 16
    w, g, v = (rng.random(n, dtype=np.float32) for _ in range(3))
    pieces = [(w[s:s + chunk], g[s:s + chunk], v[s:s + chunk]) for s in range(0, n, chunk)]

    def sgd(part):  # v = 0.9 v - lr g; w += v, piece by piece (scratch of its own per thread)
        step = np.empty(chunk, np.float32)
        for wp, gp, vp in part:
            st = step[:wp.size]
            np.multiply(gp, 1e-4, out=st)
            vp *= 0.9
            vp -= st
            wp += vp

    print("SGD update, 784,000 weights in pieces of 65,536: ms per call")
    for jobs in (1, 2):
        with host_threads(jobs):
            ms = per_call(lambda: split(sgd, pieces, 10 * n, w), calls=200)
        print(f"{jobs} host thread{'s' if jobs > 1 else ' '}                   {ms:6.3f}")


if __name__ == "__main__":
    main()

"""What handing a call to another thread costs, with BLAS's threads set to one and to two.

Times a ``ThreadPoolExecutor`` round trip of a call that does nothing (submit, then wait for
the result), in microseconds, best of three rounds of 2,000 after as many to warm up: first
as the process starts, then inside ``threadpool_limits(1)`` (as ``dec_np.threads`` runs BLAS),
after it, and inside ``threadpool_limits(2)``.  Run it as it is and with
``OPENBLAS_NUM_THREADS=1``:

    python benchmarks/handover.py
    OPENBLAS_NUM_THREADS=1 python benchmarks/handover.py
"""
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np  # noqa: F401  (loads OpenBLAS as the package does)
from threadpoolctl import threadpool_info, threadpool_limits


def round_trip(pool, calls=2000, rounds=3):
    """Microseconds per submit-and-wait of a call that does nothing."""
    nothing = lambda: None  # noqa: E731
    for _ in range(calls):
        pool.submit(nothing).result()
    best = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(calls):
            pool.submit(nothing).result()
        best = min(best, (time.perf_counter() - t) / calls * 1e6)
    return best


def main():
    pool = ThreadPoolExecutor(1)
    blas = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    print(f"BLAS threads at start: {blas}; a hand-over of nothing, microseconds:")
    print(f"  as started               {round_trip(pool):6.1f}")
    with threadpool_limits(1, user_api="blas"):
        print(f"  threadpool_limits(1)     {round_trip(pool):6.1f}")
    print(f"  after it                 {round_trip(pool):6.1f}")
    with threadpool_limits(2, user_api="blas"):
        print(f"  threadpool_limits(2)     {round_trip(pool):6.1f}")


if __name__ == "__main__":
    main()

"""What handing a call to another thread costs, with BLAS's threads set to one and to two.

Times a ``ThreadPoolExecutor`` round trip of a call that does nothing (submit, then wait for
the result), in microseconds, best of three rounds of 2,000 (``split_products.per_call``):
first as the process starts, then inside ``threadpool_limits(1)`` (as ``dec_np.threads`` runs
BLAS), after it, and inside ``threadpool_limits(2)``.  Run it as it is and with
``OPENBLAS_NUM_THREADS=1``:

    python benchmarks/handover.py
    OPENBLAS_NUM_THREADS=1 python benchmarks/handover.py
"""
from concurrent.futures import ThreadPoolExecutor

import numpy as np  # noqa: F401  (loads OpenBLAS as the package does)
from split_products import per_call
from threadpoolctl import threadpool_info, threadpool_limits


def round_trip(pool):
    """Microseconds per submit-and-wait of a call that does nothing (best of 3 x 2,000)."""
    return 1e3 * per_call(lambda: pool.submit(lambda: None).result(), calls=2000)


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

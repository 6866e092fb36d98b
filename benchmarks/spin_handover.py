"""A hand-over that spins instead of sleeping: how much of its cost a spinning wait removes.

The package's worker thread sleeps between calls (``concurrent.futures``), and on a machine
whose idle cores are slow to wake a hand-over then costs far more than the call's own work
(``benchmarks/handover.py``).  Here the two threads meet at two POSIX spinlocks through
``ctypes`` instead (each wait spins in C without Python's lock), BLAS on one thread as in
``dec_np.threads``.  Printed: a hand-over of nothing, one 64 x 784 x 500 product per
hand-over, and the same product in the calling thread (best of three rounds,
``split_products.per_call``).  Linux only (glibc's ``pthread_spin_*``); an experiment, not
used by the package:

    python benchmarks/spin_handover.py
"""
import ctypes
import threading

import numpy as np
from split_products import per_call
from threadpoolctl import threadpool_limits

LIBC = ctypes.CDLL(None)


def locked_spinlock():
    """A POSIX spinlock, created locked: used as a binary semaphore between two threads."""
    lock = ctypes.c_int(0)
    LIBC.pthread_spin_init(ctypes.byref(lock), 0)
    LIBC.pthread_spin_lock(ctypes.byref(lock))
    return lock


class SpinWorker:
    """One worker thread; ``run(fn)`` hands ``fn`` over and spins until it has run."""

    def __init__(self):
        self.go, self.done, self.fn = locked_spinlock(), locked_spinlock(), None
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while True:
            LIBC.pthread_spin_lock(ctypes.byref(self.go))  # spins until run() unlocks it
            fn = self.fn
            if fn is not None:
                fn()
            LIBC.pthread_spin_unlock(ctypes.byref(self.done))
            if fn is None:
                return

    def run(self, fn):
        self.fn = fn
        LIBC.pthread_spin_unlock(ctypes.byref(self.go))
        LIBC.pthread_spin_lock(ctypes.byref(self.done))

    def close(self):
        self.run(None)
        self.thread.join()


def main():
    rng = np.random.default_rng(0)
    x = rng.random((64, 784), dtype=np.float32)
    W = rng.random((784, 500), dtype=np.float32)
    out = np.empty((64, 500), np.float32)
    product = lambda: np.matmul(x, W, out=out)  # noqa: E731
    worker = SpinWorker()
    with threadpool_limits(1, user_api="blas"):
        times = {"spinning hand-over of nothing": per_call(lambda: worker.run(lambda: None), 2000),
                 "one product per hand-over": per_call(lambda: worker.run(product), 1000),
                 "the product in this thread": per_call(product, 1000)}
    for name, ms in times.items():
        print(f"{name:32s} {ms:.4f} ms")
    worker.close()


if __name__ == "__main__":
    main()

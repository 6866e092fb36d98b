"""Whether a worker kept awake in Python makes a hand-over cheaper (it does not, here).

``dec_np.threads`` hands calls to a ``ThreadPoolExecutor`` worker, which sleeps between calls;
waking it costs tens of microseconds on a virtual machine (``benchmarks/handover.py``).
OpenBLAS's own threads avoid that by spinning in C.  This tries the portable analogue: one
worker that, for 2 ms after each call, waits for the next without sleeping, either by
``time.sleep(0)`` (a yield that lets go of Python's lock) or by small NumPy operations (which
let go of it inside), and goes to sleep only after that.  It times, with BLAS on one thread:
a hand-over of nothing; the 64 x 784 x 500 product of a layer-wise step in two column halves,
one in the worker; and the same followed by twenty small element-wise operations in the
calling thread (while the worker waits), against the executor.  Best of 3 rounds.

    python benchmarks/warm_handover.py
"""
from __future__ import annotations

import collections
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from split_products import per_call
from threadpoolctl import threadpool_limits


class WarmWorker:
    """One worker thread that stays awake for ``linger`` seconds after each call.

    ``idle`` is what it does meanwhile: "yield" (``time.sleep(0)``) or "numpy" (a product
    of 4,096 numbers in place).  ``submit(fn)`` returns an event and a box for the result.
    """

    def __init__(self, idle: str = "yield", linger: float = 0.002) -> None:
        self.tasks: collections.deque = collections.deque()
        self.cv = threading.Condition()
        self.sleeping = False
        self.linger = linger
        buf = np.zeros(4096, np.float32)
        self.idle = (lambda: time.sleep(0)) if idle == "yield" else (
            lambda: np.multiply(buf, 1.0, out=buf))
        threading.Thread(target=self._run, daemon=True).start()

    def submit(self, fn):
        done = threading.Event()
        self.tasks.append((fn, done))
        if self.sleeping:
            with self.cv:
                self.cv.notify()
        return done

    def _run(self):
        tasks, clock = self.tasks, time.perf_counter
        while True:
            deadline = clock() + self.linger
            while not tasks:
                if clock() > deadline:
                    with self.cv:
                        self.sleeping = True
                        while not tasks:
                            self.cv.wait()
                        self.sleeping = False
                    break
                self.idle()
            fn, done = tasks.popleft()
            fn()
            done.set()


def main():
    rng = np.random.default_rng(0)
    x = rng.random((64, 784), dtype=np.float32)
    W = rng.random((784, 500), dtype=np.float32)
    out = np.empty((64, 500), np.float32)
    a = rng.random((64, 2000), dtype=np.float32)
    b = np.empty_like(a)

    def small_ops():  # the element-wise work of a layer-wise step between its products
        for _ in range(10):
            np.maximum(a, 0, out=b)
            np.multiply(b, 1.5, out=b)

    executor = ThreadPoolExecutor(1)
    workers = {
        "executor (dec_np.threads)": (lambda f: executor.submit(f), lambda d: d.result()),
        "awake, time.sleep(0)": (WarmWorker("yield").submit, lambda d: d.wait()),
        "awake, small NumPy ops": (WarmWorker("numpy").submit, lambda d: d.wait()),
    }
    with threadpool_limits(1, user_api="blas"):
        print(f"calling thread alone: the product {per_call(lambda: np.matmul(x, W, out=out)):.3f}"
              f" ms, the small ops {per_call(small_ops):.3f} ms")
        print(f"{'worker':28s} {'nothing (us)':>13s} {'halves (ms)':>12s} {'halves + ops (ms)':>18s}")
        for name, (submit, wait) in workers.items():
            def halves(submit=submit, wait=wait):
                done = submit(lambda: np.matmul(x, W[:, 256:], out=out[:, 256:]))
                np.matmul(x, W[:, :256], out=out[:, :256])
                wait(done)

            def nothing(submit=submit, wait=wait):
                wait(submit(lambda: None))

            def step(halves=halves):
                halves()
                small_ops()

            print(f"{name:28s} {1e3 * per_call(nothing, 2000):13.1f} {per_call(halves):12.3f}"
                  f" {per_call(step):18.3f}")


if __name__ == "__main__":
    main()

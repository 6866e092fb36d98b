"""Host threads that change no number: independent products side by side, BLAS on one thread.

BLAS's own threads split one matrix product among cores, and OpenBLAS sums in another order
when it does, so the same seed trains to other weights at another thread count.  Here BLAS
runs on one thread and the parallel work is made of whole calls that do not depend on one
another: the two products of a dense layer's backward pass (``dW = x^T dout`` beside
``dx = dout W^T``), the pieces of Adam's update, the Lloyd runs of k-means' restarts,
the row blocks of an encoding.
Each call computes what it would compute alone, so ``n_jobs=1`` and ``n_jobs=2`` give the
same numbers to the bit, on any number of cores.  The default (``n_jobs=None``) is BLAS's own
threads; on the 2-core machine of docs/performance.md they are level with two host threads
for a fit of 10,000 rows and slower on 70,000.  An integer ``n_jobs`` buys the
bit-reproducibility across thread counts.

Inside ``with host_threads(n_jobs):`` the layers and optimisers of :mod:`dec_np` use
:func:`beside` and :func:`split`; outside it they run everything in the calling thread,
under BLAS's own threading.  :class:`dec_np.DEC` enters it around ``fit`` (its ``n_jobs``).
On a GPU (CuPy arrays) nothing changes.
"""
from __future__ import annotations

import contextlib
import contextvars
import numbers
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from .backend import get_array_module

__all__ = ["host_threads", "resolve_n_jobs", "on_host", "threads_for", "beside", "split",
           "halves"]

#: the least work (multiply-adds, about) for which a call goes to another thread; below it
#: handing the call over (tens of microseconds) costs more than it saves
MIN_WORK = 1 << 22

_POOL: contextvars.ContextVar = contextvars.ContextVar("dec_np_threads", default=None)
#: the setting of the innermost host_threads block: an int, "blas", or None outside any
_SETTING: contextvars.ContextVar = contextvars.ContextVar("dec_np_threads_setting", default=None)


def resolve_n_jobs(n_jobs: int | str | None) -> int | None:
    """The number of host threads that ``n_jobs`` stands for; None for BLAS's own threads.

    None (the default everywhere): the setting of the enclosing :func:`host_threads` block if
    there is one, else "blas".  "blas": no threads of the package's own and BLAS's
    threading as it is (``OPENBLAS_NUM_THREADS``...), one product split among cores (on the 2-core
    machine of docs/performance.md level with two host threads for a fit of 10,000 rows,
    slower on 70,000); a seed's numbers depend on BLAS's thread count.  An int >= 1: that many host threads with
    BLAS on one thread, giving the same numbers to the bit for every such ``n_jobs`` and core
    count; -1: as many as the machine has cores, -2 one fewer, and so on (as in
    scikit-learn), at least 1.

    Parameters
    ----------
    n_jobs : int, None or "blas"
        The setting, as ``DEC(n_jobs=...)`` takes it.

    Returns
    -------
    int or None
        The number of threads, at least 1; None for "blas".

    Raises
    ------
    ValueError
        For 0, a float, a bool or another string.

    Examples
    --------
    >>> resolve_n_jobs(1), resolve_n_jobs("blas"), resolve_n_jobs(None)
    (1, None, None)
    >>> resolve_n_jobs(-1) == (os.cpu_count() or 1)
    True
    >>> with host_threads(2):
    ...     resolve_n_jobs(None)
    2
    """
    if n_jobs is None:
        active = _SETTING.get()
        return None if active is None or active == "blas" else active
    if n_jobs == "blas":
        return None
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or n_jobs == 0:
        raise ValueError(f"n_jobs must be a nonzero int, None or 'blas', got {n_jobs!r}")
    if n_jobs < 0:  # as in scikit-learn and joblib: -1 all cores, -2 all but one, ...
        return max(1, (os.cpu_count() or 1) + 1 + int(n_jobs))
    return int(n_jobs)


@contextlib.contextmanager
def host_threads(n_jobs: int | str | None = None) -> Iterator[ThreadPoolExecutor | None]:
    """Inside the block: BLAS on one thread, and ``n_jobs - 1`` worker threads for the layers.

    Parameters
    ----------
    n_jobs : int, None or "blas", default None
        See :func:`resolve_n_jobs`.  "blas" leaves BLAS as it is and starts no thread.  A
        block inside another of the same setting (or None) reuses the outer one's threads.

    Yields
    ------
    concurrent.futures.ThreadPoolExecutor or None
        The workers (None with one thread or "blas").
    """
    n = resolve_n_jobs(n_jobs)
    setting = "blas" if n is None else n
    if _SETTING.get() == setting:
        active = _POOL.get()
        yield None if active is None else active[0]
        return
    marks = _SETTING.set(setting)
    try:
        with contextlib.ExitStack() as stack:
            pool = None
            if n is not None:
                from threadpoolctl import threadpool_limits

                stack.enter_context(threadpool_limits(limits=1, user_api="blas"))
                if n > 1:
                    pool = stack.enter_context(
                        ThreadPoolExecutor(n - 1, thread_name_prefix="dec_np"))
            token = _POOL.set(None if pool is None else (pool, n))
            try:
                yield pool
            finally:
                _POOL.reset(token)
    finally:
        _SETTING.reset(marks)


def on_host(array: Any) -> bool:
    """Whether ``array`` is a NumPy array: only host work is cut up and shared out.

    Parameters
    ----------
    array : array
        A NumPy or CuPy array (or anything :func:`dec_np.backend.get_array_module` takes).

    Returns
    -------
    bool
        True on the host.
    """
    return get_array_module(array) is np


#: True while the current thread runs one share of work already handed out: a call made from
#: there runs in that thread, since the workers may all be busy with the other shares
_SHARING: contextvars.ContextVar = contextvars.ContextVar("dec_np_threads_sharing", default=False)


def _pool_for(array: Any) -> tuple[ThreadPoolExecutor, int] | None:
    """(the active workers, the number of threads) if ``array`` lives on the host and the
    calling thread is not already running a share of other work, else None."""
    active = _POOL.get()
    return active if active is not None and on_host(array) and not _SHARING.get() else None


def threads_for(like: Any) -> int:
    """The number of threads among which :func:`split` would share work on ``like`` now.

    Parameters
    ----------
    like : array
        An operand of the work.

    Returns
    -------
    int
        ``n`` inside ``host_threads(n)`` for host arrays (when the calling thread is not
        itself running a share of other work), else 1.

    Examples
    --------
    >>> import numpy as np
    >>> from dec_np.threads import host_threads, threads_for
    >>> x = np.zeros(3)
    >>> with host_threads(2):
    ...     inside = threads_for(x)
    >>> inside, threads_for(x)
    (2, 1)
    """
    active = _pool_for(like)
    return 1 if active is None else active[1]


def _shared(fn: Callable, *args: Any) -> Any:
    """``fn(*args)`` as one share of handed-out work (see :data:`_SHARING`)."""
    token = _SHARING.set(True)
    try:
        return fn(*args)
    finally:
        _SHARING.reset(token)


def _submit(pool: ThreadPoolExecutor, fn: Callable, *args: Any):
    """``pool.submit(fn, *args)`` in a copy of the caller's context, so that the worker sees
    the caller's ``numpy.errstate`` (and any other context variable)."""
    return pool.submit(contextvars.copy_context().run, _shared, fn, *args)


def beside(first: Callable[[], Any], second: Callable[[], Any], work: int, like: Any) -> Any:
    """``first()`` then ``second()``; with workers, side by side.  Returns ``second()``.

    The two must not depend on each other.  ``work`` (multiply-adds) below
    :data:`MIN_WORK`, or ``like`` (an operand) on a GPU: one after the other here.

    Parameters
    ----------
    first, second : callable
        Calls without arguments; ``first`` goes to a worker, ``second`` runs here.
    work : int
        The multiply-adds of the whole, about: below :data:`MIN_WORK` no thread is worth it.
    like : array
        An operand: on a GPU everything runs in the calling thread.

    Returns
    -------
    object
        What ``second()`` returns.
    """
    active = _pool_for(like) if work >= MIN_WORK else None
    if active is None:
        first()
        return second()
    done = _submit(active[0], first)
    try:
        return _shared(second)
    finally:
        done.result()


def split(fn: Callable[[Sequence[Any]], None], items: Sequence[Any], work: int, like: Any
          ) -> None:
    """``fn(items)``; with workers, ``fn`` on interleaved parts of ``items`` at once.

    ``fn`` must treat its items independently of one another (an element-wise update of
    disjoint pieces, say), so that the parts give what the whole gives.  ``work`` (all
    items together, in multiply-adds about) below :data:`MIN_WORK`, or ``like`` on a GPU:
    one call here.

    Parameters
    ----------
    fn : callable
        ``fn(part)`` on a sequence of items.
    items : sequence
        The items, shared out as ``items[i::n]`` among ``n`` threads.
    work : int
        The multiply-adds of the whole, about: below :data:`MIN_WORK` no thread is worth it.
    like : array
        An operand: on a GPU everything runs in the calling thread.
    """
    active = _pool_for(like) if work >= MIN_WORK else None
    if active is None or len(items) < 2:
        fn(items)
        return
    pool, n = active[0], min(active[1], len(items))
    parts = [items[i::n] for i in range(n)]
    done = [_submit(pool, fn, part) for part in parts[1:]]
    try:
        _shared(fn, parts[0])
    finally:
        for d in done:
            d.result()


def halves(fn: Callable[[slice], None], n: int, work: int, like: Any, unit: int = 1) -> None:
    """``fn(slice(0, h))`` and ``fn(slice(h, n))``, ``h`` = ceil(n / 2) rounded up to a
    multiple of ``unit``; with workers, at once, the first (the larger) in the calling thread.

    For products whose rows are independent (a layer's ``out = x @ W`` by rows of ``x``,
    ``dW = x^T dout`` by rows of ``dW``): the two halves are fixed by ``n`` alone, not by the
    number of threads, so inside ``host_threads(k)`` every ``k`` computes the same two
    products, in one thread or in two.  Outside an int setting of :func:`host_threads` (under
    "blas", or with no block at all), ``work`` below :data:`MIN_WORK`, or ``like`` on a GPU:
    one call ``fn(slice(0, n))``, which BLAS may split among its own threads.

    Parameters
    ----------
    fn : callable
        ``fn(s)`` computes the rows ``s`` (a slice) of the result.
    n : int
        The number of rows.
    work : int
        The multiply-adds of the whole, about: below :data:`MIN_WORK` no thread is worth it.
    like : array
        An operand: on a GPU everything runs in the calling thread.
    unit : int, default 1
        The first half's length is a multiple of it (64 for columns: BLAS kernels work on
        blocks of a few columns, and a cut between blocks leaves each column computed as in
        one call more often).
    """
    h = -(-(-(-n // 2)) // unit) * unit
    if not isinstance(_SETTING.get(), int) or work < MIN_WORK or h >= n or not on_host(like):
        fn(slice(0, n))
        return
    # the worker starts a hand-over later (tens of microseconds): it takes the smaller part
    beside(lambda: fn(slice(h, n)), lambda: fn(slice(0, h)), work, like)

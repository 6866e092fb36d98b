"""What several modules share: input validation, progress lines, and mini-batch order.

``check_array`` is the one gate data passes before any work; ``Progress`` prints the
``it/total ... time left`` lines of every training loop; ``BatchStream`` is the one
mini-batch iterator (used by pretraining, DEC and resumable fits, with a state that can be
saved and restored).
"""
from __future__ import annotations

import math
import numbers
import sys
import time
from typing import Any, Literal, overload

import numpy as np

from .backend import get_array_module


def check_array(X: Any, n_features: int | None = None, name: str = "X") -> Any:
    """Validate a data matrix before any work: 2-D, real, finite, of the expected width.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        NumPy or CuPy array, a DataFrame, or anything ``np.asarray`` takes.
    n_features : int, optional
        The width X must have.
    name : str, default "X"
        How the error messages call X.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        The array (a NumPy array if a list, a DataFrame or the like was given).

    Raises
    ------
    ValueError
        Saying what is wrong: not 2-D, no rows, the wrong width, not real numbers, NaN or inf.
    """
    if not (isinstance(X, np.ndarray) or type(X).__module__.startswith("cupy")):
        X = np.asarray(X)  # lists, DataFrames (which have ndim but no dtype)
        if X.dtype == object:
            X = X.astype(np.float64)  # numbers stored as objects; else numpy's error
    xp = get_array_module(X)
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features), got shape {X.shape}")
    if X.shape[0] < 1:
        raise ValueError(f"{name} has no rows")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"{name} has {X.shape[1]} features but the network expects {n_features}")
    if not xp.issubdtype(X.dtype, xp.number) or xp.issubdtype(X.dtype, xp.complexfloating):
        raise ValueError(f"{name} must be real numbers, got dtype {X.dtype}")
    if not bool(xp.isfinite(X).all()):
        raise ValueError(f"{name} contains NaN or inf")
    return X


@overload
def check_count(value: Any, name: str, low: int = ..., none: Literal[False] = ...) -> int: ...


@overload
def check_count(value: Any, name: str, low: int = ..., none: bool = ...) -> int | None: ...


def check_count(value: Any, name: str, low: int = 1, none: bool = False) -> int | None:
    """An integer parameter >= ``low`` (never a bool, never a float rounded), or ValueError.

    Parameters
    ----------
    value : int or None
        The value given.
    name : str
        The parameter's name, for the message.
    low : int, default 1
        The smallest value allowed.
    none : bool, default False
        Whether None is allowed (and returned as is).

    Returns
    -------
    int or None
        ``int(value)``.
    """
    if value is None and none:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) \
            or value < low:
        raise ValueError(f"{name} must be an integer >= {low}{' or None' if none else ''}, "
                         f"got {value!r}")
    return int(value)


@overload
def check_real(value: Any, name: str, low: float = ..., high: float = ..., closed: str = ...,
               none: Literal[False] = ...) -> float: ...


@overload
def check_real(value: Any, name: str, low: float = ..., high: float = ..., closed: str = ...,
               none: bool = ...) -> float | None: ...


def check_real(value: Any, name: str, low: float = 0.0, high: float = math.inf,
               closed: str = "neither", none: bool = False) -> float | None:
    """A finite real parameter in the interval (low, high), or ValueError.

    Parameters
    ----------
    value : float or None
        The value given.
    name : str
        The parameter's name, for the message.
    low, high : float, default 0 and inf
        The interval's ends.
    closed : {"neither", "left", "right", "both"}, default "neither"
        Which ends belong to the interval.
    none : bool, default False
        Whether None is allowed (and returned as is).

    Returns
    -------
    float or None
        ``float(value)``.
    """
    if value is None and none:
        return None
    ok = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)) \
        and math.isfinite(value)
    if ok:
        ok = (low <= value if closed in ("left", "both") else low < value) and \
            (value <= high if closed in ("right", "both") else value < high)
    if not ok:
        left = "[" if closed in ("left", "both") else "("
        right = "]" if closed in ("right", "both") else ")"
        raise ValueError(f"{name} must be a finite number in {left}{low:g}, {high:g}{right}"
                         f"{' or None' if none else ''}, got {value!r}")
    return float(value)


def check_bool(value: Any, name: str) -> bool:
    """``bool(value)`` if value is True or False (NumPy's too), else ValueError.

    Parameters
    ----------
    value : bool
        The value given.
    name : str
        The parameter's name, for the message.

    Returns
    -------
    bool
        The value.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


class Progress:
    """Prints ``label  it/total  loss  it/s  time left`` to stderr at most every ``every`` seconds.

    Parameters
    ----------
    label : str
        The line's first word (the stage).
    total : int
        The iterations of the stage.
    verbose : bool
        Print nothing when False.
    every : float, default 2.0
        Seconds between two lines, unless a call forces one.
    """

    def __init__(self, label, total, verbose, every=2.0):
        self.label, self.total, self.verbose, self.every = label, total, verbose, every
        self.t0 = self.last = time.perf_counter()

    def __call__(self, it, loss, force=False):
        if not self.verbose:
            return
        now = time.perf_counter()
        if not force and now - self.last < self.every:
            return
        self.last = now
        rate = it / max(now - self.t0, 1e-9)
        left = (self.total - it) / max(rate, 1e-9)
        print(f"{self.label} {it:>7d}/{self.total}  loss {loss:.5f}  {rate:7.1f} it/s  "
              f"{left:6.0f} s left", file=sys.stderr, flush=True)


class BatchStream:
    """Endless mini-batches of row indices: a fresh permutation of range(n) each epoch.

    ``next(stream)`` gives ``(epoch, idx)``; an epoch's last batch may be smaller.  The
    permutation is drawn on the host from ``rng`` (a NumPy Generator), when the epoch's first
    batch is asked for, so the same seed gives the same batches on every backend; it is moved
    to the device (``xp``) once per epoch.  ``state()`` is what it takes to continue exactly
    here: the generator's state before the current epoch's permutation, and the batches taken.

    Parameters
    ----------
    n : int
        Number of rows.
    batch_size : int
        Rows per batch.
    rng : numpy.random.Generator
        Draws each epoch's permutation, on the host.
    xp : array module, default numpy
        Where the indices live (numpy or cupy).
    state : dict, optional
        A ``state()`` to continue from (it resets ``rng`` to the saved state).
    """

    def __init__(self, n, batch_size, rng, xp=np, state=None):
        self.n, self.batch_size, self.rng, self.xp = int(n), int(batch_size), rng, xp
        self.per_epoch = -(-self.n // self.batch_size)
        self.epoch, self.pos, self._perm = 0, 0, None
        if state is not None:
            rng.bit_generator.state = state["rng"]
            self.epoch, self.pos = int(state["epoch"]), int(state["pos"])
            if self.pos:  # redraw this epoch's permutation; the batches taken are skipped
                self._draw()

    def _draw(self):
        self.epoch_start = self.rng.bit_generator.state
        self._perm = self.xp.asarray(self.rng.permutation(self.n))

    def __iter__(self):
        return self

    def __next__(self):
        if self._perm is None:
            self._draw()
        elif self.pos == self.per_epoch:
            self.epoch, self.pos = self.epoch + 1, 0
            self._draw()
        start = self.pos * self.batch_size
        self.pos += 1
        return self.epoch, self._perm[start:start + self.batch_size]

    def state(self):
        """Where the stream stands, to continue exactly there later.

        Returns
        -------
        dict
            JSON-able: "rng" (the generator's state), "epoch" and "pos"; give it to
            ``BatchStream(..., state=)``.
        """
        if self._perm is None or self.pos == self.per_epoch:  # next permutation not drawn yet
            return {"rng": self.rng.bit_generator.state,
                    "epoch": self.epoch + (self._perm is not None), "pos": 0}
        return {"rng": self.epoch_start, "epoch": self.epoch, "pos": self.pos}

"""How DEC scales its input: one scalar per data set, learnt in ``fit`` and kept as ``scale_``.

"paper" makes the mean of ``(1/d)|x|^2`` equal 1 (the paper's convention), "max" makes
``max |x|`` equal 1 (pixels in [0, 1] stay as they are), None leaves X as given.  Each pretraining
schedule names the scaling it was tuned with (:mod:`dec_np.schedules`).
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .backend import asnumpy

#: the scalings :func:`input_scale_factor` knows
INPUT_SCALINGS = ("paper", "max", None)


def paper_scale_factor(X: ArrayLike) -> float:
    """The scalar of :func:`dec_np.datasets.paper_scale`, ``sqrt(n * d / sum(X**2))``.

    X itself is not scaled.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The data, NumPy or CuPy (copied to the host).

    Returns
    -------
    float
        The factor that makes the mean of (1/d)|x|^2 equal 1.

    Raises
    ------
    ValueError
        If X is all zeros.
    """
    X = asnumpy(X)
    # Sum in float64 for accuracy, in row blocks so 70,000 MNIST rows never exist in float64.
    sq = sum(float(np.sum(np.square(X[i:i + 8192], dtype=np.float64)))
             for i in range(0, len(X), 8192))
    if sq == 0.0:
        raise ValueError("paper_scale: X is all zeros, no scale makes its norm 1")
    return float(np.sqrt(X.size / sq))


def max_scale_factor(X: ArrayLike) -> float:
    """``1 / max |X|``: the scalar that brings the largest magnitude in X to 1.

    Pixels in [0, 1] keep their values, bytes are divided by 255.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The data, NumPy or CuPy (copied to the host).

    Returns
    -------
    float
        ``1 / max |X|``.

    Raises
    ------
    ValueError
        If X is all zeros.
    """
    X = asnumpy(X)
    m = max(float(np.max(np.abs(X[i:i + 8192]))) for i in range(0, len(X), 8192))
    if m == 0.0:
        raise ValueError("max scaling: X is all zeros")
    return 1.0 / m


def input_scale_factor(X: ArrayLike, scaling: str | None) -> float:
    """The scalar DEC multiplies X by.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The data.
    scaling : {"paper", "max"} or None
        :func:`paper_scale_factor`, :func:`max_scale_factor`, or None for 1.0.

    Returns
    -------
    float
        The factor.

    Raises
    ------
    ValueError
        For another ``scaling``, or X all zeros.
    """
    if scaling == "paper":
        return paper_scale_factor(X)
    if scaling == "max":
        return max_scale_factor(X)
    if scaling is None:
        return 1.0
    raise ValueError(f"input scaling must be 'paper', 'max' or None, got {scaling!r}")

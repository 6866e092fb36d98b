"""How DEC scales its input: one scalar per data set, learnt in ``fit`` and kept as ``scale_``.

"paper" makes the mean of ``(1/d)|x|^2`` equal 1 (the paper's convention), "max" makes
``max |x|`` equal 1 (pixels in [0, 1] stay as they are), None leaves X as given.  Each pretraining
schedule names the scaling it was tuned with (:mod:`dec_np.schedules`).
"""
from __future__ import annotations

import numpy as np

#: the scalings :func:`input_scale_factor` knows
INPUT_SCALINGS = ("paper", "max", None)


def paper_scale_factor(X):
    """The scalar of :func:`dec_np.datasets.paper_scale`, ``sqrt(n * d / sum(X**2))``, without scaling X."""
    X = np.asarray(X)
    # Sum in float64 for accuracy, in row blocks so 70,000 MNIST rows never exist in float64.
    sq = sum(float(np.sum(np.square(X[i:i + 8192], dtype=np.float64)))
             for i in range(0, len(X), 8192))
    if sq == 0.0:
        raise ValueError("paper_scale: X is all zeros, no scale makes its norm 1")
    return float(np.sqrt(X.size / sq))


def max_scale_factor(X):
    """``1 / max |X|``: the scalar that brings the largest magnitude in X to 1 (pixels in
    [0, 1] keep their values, bytes are divided by 255)."""
    X = np.asarray(X)
    m = max(float(np.max(np.abs(X[i:i + 8192]))) for i in range(0, len(X), 8192))
    if m == 0.0:
        raise ValueError("max scaling: X is all zeros")
    return 1.0 / m


def input_scale_factor(X, scaling):
    """The scalar DEC multiplies X by: "paper" (:func:`paper_scale_factor`), "max"
    (:func:`max_scale_factor`) or None (1.0)."""
    if scaling == "paper":
        return paper_scale_factor(X)
    if scaling == "max":
        return max_scale_factor(X)
    if scaling is None:
        return 1.0
    raise ValueError(f"input scaling must be 'paper', 'max' or None, got {scaling!r}")

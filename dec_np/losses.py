"""The reconstruction loss of the autoencoder."""
from __future__ import annotations

from typing import Literal

from .backend import Array

__all__ = ["mse"]


def mse(x_hat: Array, x: Array, reduction: Literal["batch", "mean"] = "batch"
        ) -> tuple[Array, Array]:
    """Least-squares reconstruction loss and its gradient.

    .. math:: L_{batch} = \\frac{1}{2N} \\sum_{i=1}^{N} \\lVert \\hat x_i - x_i \\rVert^2,
              \\qquad L_{mean} = \\frac{1}{2Nd} \\sum_{i=1}^{N} \\lVert \\hat x_i - x_i \\rVert^2

    ``reduction="batch"`` (default): half the squared error summed over the d features
    and averaged over the N rows (Caffe's stock EuclideanLoss).  ``reduction="mean"``:
    averaged over all N*d elements, as in the DEC authors' own Caffe build, whose
    lr 0.1 is the paper's; the same lr is d times smaller in "batch" units.  The gradient
    is that of exactly the number returned.

    Parameters
    ----------
    x_hat : ndarray of shape (N, d)
        The reconstruction.  Not modified.
    x : ndarray of shape (N, d)
        The target (the clean input), same dtype and device as ``x_hat``.
    reduction : {"batch", "mean"}, default "batch"
        Normalise by N (rows) or by N*d (elements), see above.

    Returns
    -------
    loss : 0-d array
        On the data's device; ``float(loss)`` to read it.
    dx_hat : ndarray of shape (N, d)
        The gradient of ``loss`` with respect to ``x_hat``: ``(x_hat - x) / N`` or
        ``(x_hat - x) / (N d)``.

    Raises
    ------
    ValueError
        For an unknown ``reduction``.

    Examples
    --------
    >>> import numpy as np
    >>> from dec_np.losses import mse
    >>> x = np.zeros((2, 3))
    >>> x_hat = np.array([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]])
    >>> loss, dx_hat = mse(x_hat, x)            # (1 + 4) / (2 * 2)
    >>> round(float(loss), 4)
    1.25
    >>> dx_hat.tolist()
    [[0.5, 0.0, 0.0], [0.0, 1.0, 0.0]]
    >>> round(float(mse(x_hat, x, reduction="mean")[0]), 4)   # (1 + 4) / (2 * 6)
    0.4167
    """
    if reduction == "batch":
        count = x.shape[0]
    elif reduction == "mean":
        count = x.shape[0] * x.shape[1]
    else:
        raise ValueError(f"reduction must be 'batch' or 'mean', got {reduction!r}")
    diff = x_hat - x
    loss = 0.5 * (diff * diff).sum() / count
    diff /= x.dtype.type(count)
    return loss, diff

"""The reconstruction loss of the autoencoder."""
from __future__ import annotations


def mse(x_hat, x, reduction="batch"):
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
    x_hat, x : ndarray of shape (N, d)
    reduction : {"batch", "mean"}

    Returns
    -------
    loss : 0-d array (on the data's device; ``float(loss)`` to read it)
    dx_hat : ndarray of shape (N, d): ``(x_hat - x) / N`` or ``(x_hat - x) / (N d)``
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

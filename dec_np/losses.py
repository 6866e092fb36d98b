"""The reconstruction loss of the autoencoder."""
from __future__ import annotations


def mse(x_hat, x):
    """Least-squares reconstruction loss and its gradient (Caffe's EuclideanLoss).

    .. math:: L = \\frac{1}{2N} \\sum_{i=1}^{N} \\lVert \\hat x_i - x_i \\rVert^2

    Reduction: half the squared error, summed over features and averaged over the
    batch; the gradient is that of exactly this number.

    Parameters
    ----------
    x_hat, x : ndarray of shape (N, d)

    Returns
    -------
    loss : 0-d array (on the data's device; ``float(loss)`` to read it)
    dx_hat : ndarray of shape (N, d), ``(x_hat - x) / N``
    """
    n = x.shape[0]
    diff = x_hat - x
    loss = 0.5 * (diff * diff).sum() / n
    return loss, diff / x.dtype.type(n)

"""The k nearest neighbours of every embedded point, for the clustering phase's neighbour rows.

``DEC(augment={"neighbours": k})`` trains the encoder on rows swapped for one of their k
nearest neighbours in the embedding that k-means clustered (:func:`nearest_neighbours`,
then :func:`dec_np.augment.neighbour_rows` each step): an augmentation that needs no
knowledge of what the rows are.  All work stays on z's device.
"""
from __future__ import annotations

from .backend import Array, get_array_module
from .kmeans import squared_distances
from .utils import check_count

__all__ = ["nearest_neighbours"]

#: distances held at once, in elements (64 MiB of float32): rows per block = this / n
BLOCK = 2**24


def nearest_neighbours(z: Array, k: int, block: int | None = None) -> Array:
    r"""The indices of each point's k nearest other points, nearest first.

    .. math:: N_i = \operatorname{arg\,min}^{(k)}_{j \ne i} |z_i - z_j|^2

    Distances come from :func:`dec_np.kmeans.squared_distances` in blocks of rows; each row's
    k smallest (the point itself left out) are ordered by distance, equal distances by index,
    so the result is the same on every backend for points without ties.

    Parameters
    ----------
    z : ndarray of shape (n_samples, n_features)
        The points (the embedding), on either device; n_samples > k.
    k : int
        Neighbours per point, 1 <= k < n_samples.
    block : int, optional
        Rows per block; default ``max(1, BLOCK // n_samples)``, which bounds the
        temporaries to about 64 MiB.

    Returns
    -------
    ndarray of shape (n_samples, k), int64, on z's device
        ``out[i, 0]`` is the nearest point to ``z[i]`` other than itself.

    Raises
    ------
    ValueError
        If k is not an integer in [1, n_samples - 1], or z is not 2-D.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.array([[0.0], [1.0], [3.0], [7.0]])
    >>> nearest_neighbours(z, 2).tolist()
    [[1, 2], [0, 2], [1, 0], [2, 1]]
    """
    xp = get_array_module(z)
    if z.ndim != 2:
        raise ValueError(f"z must be 2-D (n_samples, n_features), got shape {z.shape}")
    n = z.shape[0]
    k = check_count(k, "k", 1)
    if k >= n:
        raise ValueError(f"k must be below the number of points ({n}), got {k}")
    rows = max(1, int(block) if block is not None else BLOCK // n)
    norms = (z * z).sum(axis=1)
    out = xp.empty((n, k), dtype=xp.int64)
    for a in range(0, n, rows):
        b = min(n, a + rows)
        d = squared_distances(z[a:b], z, x_squared_norms=norms[a:b])
        d[xp.arange(b - a), xp.arange(a, b)] = xp.inf  # not its own neighbour
        part = xp.sort(xp.argpartition(d, k - 1, axis=1)[:, :k], axis=1)  # by index first
        order = xp.argsort(xp.take_along_axis(d, part, axis=1), axis=1, kind="stable")
        out[a:b] = xp.take_along_axis(part, order, axis=1)
    return out

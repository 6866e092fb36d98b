"""Clustering metrics used in the DEC paper: unsupervised accuracy, NMI and ARI.

All metrics run on the host (NumPy + SciPy); device arrays are copied with
:func:`~dec_np.backend.asnumpy`.  Labels may be any hashable values NumPy can sort
(ints, strings); the two labelings need not share labels nor their number.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .backend import asnumpy

__all__ = ["check_labels", "contingency_matrix", "best_mapping", "cluster_accuracy", "nmi",
           "ari"]


def check_labels(y: ArrayLike, name: str = "y") -> NDArray[Any]:
    """A labeling as a host 1-D array, refusing missing labels (NaN, None) and infinities.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels of any type NumPy can sort (ints, strings), NumPy or CuPy.
    name : str, default "y"
        How the error messages call it.

    Returns
    -------
    y : ndarray of shape (n_samples,)
        On the host.

    Raises
    ------
    ValueError
        If y is not 1-D, or holds NaN, inf or None (a NaN label would form a cluster of its
        own, or none: ``NaN != NaN``).
    """
    y = asnumpy(y)
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {y.shape}")
    if y.dtype.kind in "fc":
        bad = ~np.isfinite(y)
    elif y.dtype == object:
        bad = np.array([v is None or (isinstance(v, (float, complex, np.floating))
                                      and not np.isfinite(v)) for v in y], dtype=bool)
    else:
        return y
    if bad.any():
        raise ValueError(f"{name} contains {int(bad.sum())} missing or infinite label(s) "
                         f"(NaN, inf or None; the first at index {int(np.flatnonzero(bad)[0])})")
    return y


def _check_labels(y_true, y_pred):
    """Both labelings as host 1-D arrays of the same, non-zero length, without NaN."""
    y_true, y_pred = check_labels(y_true, "y_true"), check_labels(y_pred, "y_pred")
    if y_true.shape[0] != y_pred.shape[0]:
        raise ValueError(f"y_true and y_pred differ in length: {y_true.shape[0]} != "
                         f"{y_pred.shape[0]}")
    if y_true.shape[0] == 0:
        raise ValueError("labels are empty")
    return y_true, y_pred


def _contingency(y_true, y_pred):
    """(classes, clusters, table), table[i, j] = #{y_true == classes[i], y_pred == clusters[j]}."""
    y_true, y_pred = _check_labels(y_true, y_pred)
    classes, i = np.unique(y_true, return_inverse=True)
    clusters, j = np.unique(y_pred, return_inverse=True)
    shape = (classes.shape[0], clusters.shape[0])
    flat = np.bincount(i.ravel() * shape[1] + j.ravel(), minlength=shape[0] * shape[1])
    return classes, clusters, flat.reshape(shape).astype(np.int64)


def contingency_matrix(y_true: ArrayLike, y_pred: ArrayLike) -> NDArray[np.int64]:
    """Contingency table of two labelings.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground-truth class labels.
    y_pred : array-like of shape (n_samples,)
        Cluster labels.

    Returns
    -------
    table : ndarray of shape (n_classes, n_clusters), int64
        ``table[i, j]`` counts the samples of the ``i``-th class (sorted order) that
        fall in the ``j``-th cluster (sorted order); as in scikit-learn.

    Raises
    ------
    ValueError
        If the labelings are not 1-D, differ in length, are empty or hold NaN, inf or None.

    Examples
    --------
    >>> from dec_np.metrics import contingency_matrix
    >>> contingency_matrix([0, 0, 0, 1, 1, 1], [1, 1, 0, 0, 0, 0]).tolist()
    [[1, 2], [3, 0]]
    """
    return _contingency(y_true, y_pred)[2]


def _assignment(table):
    """Rows and columns of the one-to-one class/cluster matching maximising the matches."""
    # imported here: scipy.optimize takes half a second to import, most uses never need it
    from scipy.optimize import linear_sum_assignment
    return linear_sum_assignment(table, maximize=True)


def best_mapping(y_true: ArrayLike, y_pred: ArrayLike) -> dict[Any, Any]:
    """The cluster-to-class mapping used by :func:`cluster_accuracy`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground-truth class labels.
    y_pred : array-like of shape (n_samples,)
        Cluster labels.

    Returns
    -------
    mapping : dict
        ``{cluster label: class label}`` for the one-to-one matching that maximises
        the number of matched samples (Hungarian method).  With more clusters than
        classes, unmatched clusters are absent from the dict (their samples count as
        wrong); use ``mapping.get(c)`` when relabelling.

    Examples
    --------
    >>> from dec_np.metrics import best_mapping
    >>> best_mapping([0, 0, 0, 1, 1, 1], [1, 1, 0, 0, 0, 0])
    {1: 0, 0: 1}
    """
    classes, clusters, table = _contingency(y_true, y_pred)
    rows, cols = _assignment(table)
    return {clusters[c].item(): classes[r].item() for r, c in zip(rows, cols)}


def cluster_accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    r"""Unsupervised clustering accuracy (the paper's ACC).

    .. math::

        \mathrm{ACC} = \max_m \frac{1}{n} \sum_{i=1}^{n} \mathbf{1}\{y_i = m(c_i)\}

    where :math:`m` ranges over the one-to-one maps from clusters to classes.  The
    best map is found by the Hungarian method
    (:func:`scipy.optimize.linear_sum_assignment`) on the contingency table, so it
    works for any number of clusters and classes; with more clusters than classes the
    unmatched clusters count as wrong.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground-truth class labels.
    y_pred : array-like of shape (n_samples,)
        Cluster labels.

    Returns
    -------
    acc : float in [0, 1]
        The fraction of samples whose cluster maps to their class.

    Examples
    --------
    Cluster 1 is class 0 and cluster 0 is class 1; one sample of class 0 is misplaced:

    >>> from dec_np.metrics import cluster_accuracy
    >>> round(cluster_accuracy([0, 0, 0, 1, 1, 1], [1, 1, 0, 0, 0, 0]), 4)
    0.8333
    >>> cluster_accuracy(["a", "a", "b"], [7, 7, 3])     # any labels, renamed freely
    1.0
    """
    table = contingency_matrix(y_true, y_pred)
    rows, cols = _assignment(table)
    return float(table[rows, cols].sum() / table.sum())


def _entropy(counts):
    """Entropy in nats of the distribution given by positive counts."""
    p = counts[counts > 0] / counts.sum()
    return float(-np.sum(p * np.log(p)))


def nmi(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    r"""Normalized mutual information, arithmetic normalisation.

    With :math:`n_{ij}` the contingency table, :math:`a_i = \sum_j n_{ij}`,
    :math:`b_j = \sum_i n_{ij}` and :math:`n = \sum_{ij} n_{ij}`:

    .. math::

        I = \sum_{ij} \frac{n_{ij}}{n} \log \frac{n\, n_{ij}}{a_i b_j}, \qquad
        H(a) = -\sum_i \frac{a_i}{n} \log \frac{a_i}{n}, \qquad
        \mathrm{NMI} = \frac{I}{\tfrac12 (H(a) + H(b))}

    as in the paper and scikit-learn's default ``average_method="arithmetic"``.
    When both labelings are constant (zero entropy) the NMI is defined as 1, as in
    scikit-learn; when only one is, it is 0.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground-truth class labels.
    y_pred : array-like of shape (n_samples,)
        Cluster labels.

    Returns
    -------
    nmi : float in [0, 1]
        1 when the partitions are the same, 0 when they share no information.

    Examples
    --------
    >>> from dec_np.metrics import nmi
    >>> round(nmi([0, 0, 0, 1, 1, 1], [1, 1, 0, 0, 0, 0]), 4)
    0.4787
    >>> round(nmi([0, 0, 1, 1], [5, 5, 7, 7]), 4)
    1.0
    """
    table = contingency_matrix(y_true, y_pred).astype(np.float64)
    if table.shape[0] == 1 and table.shape[1] == 1:
        return 1.0
    n = table.sum()
    a, b = table.sum(axis=1), table.sum(axis=0)
    i, j = np.nonzero(table)
    nij = table[i, j]
    mi = np.sum(nij / n * (np.log(nij) + np.log(n) - np.log(a[i]) - np.log(b[j])))
    mi = max(float(mi), 0.0)  # rounding can leave a tiny negative value
    if mi == 0.0:
        return 0.0
    return mi / (0.5 * (_entropy(a) + _entropy(b)))


def ari(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    r"""Adjusted Rand index (Hubert and Arabie, 1985).

    With :math:`n_{ij}`, :math:`a_i`, :math:`b_j`, :math:`n` as in :func:`nmi`,
    :math:`S = \sum_{ij} \binom{n_{ij}}{2}`, :math:`A = \sum_i \binom{a_i}{2}`,
    :math:`B = \sum_j \binom{b_j}{2}` and :math:`N = \binom{n}{2}`:

    .. math::

        \mathrm{ARI} = \frac{S - AB/N}{\tfrac12 (A + B) - AB/N}
                     = \frac{2 (N S - A B)}{N (A + B) - 2 A B}

    The right-hand form is evaluated in exact integer arithmetic (Python ints, so no
    overflow for large ``n``) and divided once.  When the denominator vanishes the
    two labelings are the same partition (both constant, both all-singletons, or
    ``n = 1``) and the ARI is 1, as in scikit-learn.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground-truth class labels.
    y_pred : array-like of shape (n_samples,)
        Cluster labels.

    Returns
    -------
    ari : float, at most 1
        1 for identical partitions, about 0 (possibly negative) for independent ones.

    Examples
    --------
    >>> from dec_np.metrics import ari
    >>> round(ari([0, 0, 0, 1, 1, 1], [1, 1, 0, 0, 0, 0]), 4)
    0.3243
    >>> ari([0, 0, 1, 1], [5, 5, 7, 7])
    1.0
    """
    table = contingency_matrix(y_true, y_pred)

    def pairs(counts):
        return int(np.sum(counts * (counts - 1) // 2))

    n = int(table.sum())
    s, a, b = pairs(table), pairs(table.sum(axis=1)), pairs(table.sum(axis=0))
    big_n = n * (n - 1) // 2
    den = big_n * (a + b) - 2 * a * b
    if den == 0:
        return 1.0
    return 2 * (big_n * s - a * b) / den

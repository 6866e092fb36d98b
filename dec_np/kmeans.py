"""k-means from scratch on NumPy or CuPy arrays: k-means++ seeding, Lloyd's iterations, restarts.

DEC initialises its centres ``mu`` with k-means on the embedded points ``z`` (Section 3.3).
All work stays on X's device (``xp = get_array_module(X)``); only the seeding's random
numbers come from the host.
"""
from __future__ import annotations

import numpy as np

from typing import Literal, overload

from .backend import Array, Seed, asnumpy, get_array_module, seed_sequence, to_device
from .base import BaseEstimator, not_fitted, validate_data
from .threads import split
from .utils import check_count, check_real

__all__ = ["squared_distances", "kmeans_plusplus", "lloyd", "kmeans", "KMeans"]


def _chunk_rows(xp, chunk_size, width):
    """Rows per block for the chunked passes (``width``: columns of the per-block result)."""
    if chunk_size is not None:
        return max(1, int(chunk_size))
    if xp is np:
        # One Lloyd pass over 70000 x 10, k = 10, on 2 cores shared with other jobs: 3 ms
        # in 4096-row blocks, 50 to 370 ms in blocks of 8192 rows or more (OpenBLAS's
        # threads stall on busy cores); single-threaded, bigger blocks gain only a third.
        return 4096
    # On the GPU each block costs a few kernel launches: take big ones (about 64 MiB each).
    return max(4096, 2**24 // max(int(width), 1))


def _check_array(X, n_clusters=None):
    """X as a finite 2-D float32/float64 array on its own device (other dtypes become
    float64); also checks that n_clusters, if given, is an integer in [1, n_samples]."""
    xp = get_array_module(X)
    X = xp.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X is empty: shape {X.shape}")
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(xp.float64)
    if not bool(xp.isfinite(X).all()):
        raise ValueError("X contains NaN or infinity")
    if n_clusters is not None and (int(n_clusters) != n_clusters
                                   or not 1 <= n_clusters <= X.shape[0]):
        raise ValueError(f"n_clusters must be an integer in [1, n_samples={X.shape[0]}], "
                         f"got {n_clusters}")
    return xp, X


def _row_norms(X):
    """|x_i|^2 for every row, shape (n_samples,), in X's dtype, with no (n, d) temporary."""
    xp = get_array_module(X)
    return xp.einsum("ij,ij->i", X, X)


def squared_distances(X: Array, C: Array, out: Array | None = None, chunk_size: int | None = None,
                      x_squared_norms: Array | None = None) -> Array:
    r"""Squared Euclidean distances between the rows of ``X`` and the rows of ``C``.

    .. math:: D_{ij} = \max(0,\ |x_i|^2 - 2\, x_i \cdot c_j + |c_j|^2)

    One BLAS (cuBLAS) product per block of rows, written into ``out``; the clip at 0
    removes the small negative values that cancellation leaves near a centre.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The points, on either device.
    C : ndarray of shape (n_centers, n_features)
        The centres, cast to X's dtype.
    out : ndarray of shape (n_samples, n_centers), optional
        C-contiguous, X's dtype and device; filled and returned.
    chunk_size : int, optional
        Rows per block, bounding the temporaries; default 4096 on NumPy, more on CuPy.
    x_squared_norms : ndarray of shape (n_samples,), optional
        Precomputed :math:`|x_i|^2`.

    Returns
    -------
    D : ndarray of shape (n_samples, n_centers)
        X's dtype, on X's device (``out`` itself when given).

    Raises
    ------
    ValueError
        If C's width differs from X's, or ``out`` has the wrong shape or dtype.
    """
    xp = get_array_module(X, C)
    n, k = X.shape[0], C.shape[0]
    if C.ndim != 2 or C.shape[1] != X.shape[1]:
        raise ValueError(f"C must have shape (n_centers, {X.shape[1]}), got {C.shape}")
    if out is None:
        out = xp.empty((n, k), dtype=X.dtype)
    elif out.shape != (n, k) or out.dtype != X.dtype:
        raise ValueError(f"out must have shape {(n, k)} and dtype {X.dtype}")
    C = C.astype(X.dtype, copy=False)
    c_sq, minus_2ct = _row_norms(C), (-2 * C).T
    rows = _chunk_rows(xp, chunk_size, k)
    for s in range(0, n, rows):
        Xc, o = X[s:s + rows], out[s:s + rows]
        x_sq = _row_norms(Xc) if x_squared_norms is None else x_squared_norms[s:s + rows]
        xp.matmul(Xc, minus_2ct, out=o)
        o += x_sq[:, None]
        o += c_sq
        xp.maximum(o, 0, out=o)
    return out


def _argmin_axis0(D):
    """Index and value of the minimum of every column of D, shape (k, m): (labels, d_min)."""
    xp = get_array_module(D)
    if xp is not np:
        labels = xp.argmin(D, axis=0)
        return labels, xp.take_along_axis(D, labels[None, :], axis=0)[0]
    # NumPy's argmin over a short axis runs one tiny search per sample (1.4 ms for
    # 70000 x 10); a running minimum over the k rows is vectorised over the samples and
    # about 4x faster.  Strict < keeps the first index on ties, as argmin does.
    d_min = D[0].copy()
    labels = np.zeros(D.shape[1], dtype=np.min_scalar_type(D.shape[0] - 1))
    closer = np.empty(D.shape[1], dtype=bool)
    for j in range(1, D.shape[0]):
        np.less(D[j], d_min, out=closer)
        np.minimum(d_min, D[j], out=d_min)
        # j exceeds every label set so far, so where(closer, j, labels) is this maximum
        np.maximum(labels, closer * labels.dtype.type(j), out=labels)
    return labels, d_min


def _lloyd_pass(X, centers, rows, with_sums=True):
    """Assign every row of X to its nearest centre, block by block.

    Returns labels (n_samples,) int64, ``|c|^2 - 2 x.c`` for the chosen centre (add |x|^2
    for the squared distance) and, if ``with_sums``, the per-cluster sums of the rows,
    float64 (n_clusters, n_features).
    """
    xp = get_array_module(X)
    n, k = X.shape[0], centers.shape[0]
    labels = xp.empty(n, dtype=xp.int64)
    partial = xp.empty(n, dtype=X.dtype)
    sums = xp.zeros((k, X.shape[1]), dtype=xp.float64) if with_sums else None
    c_sq, minus_2c = _row_norms(centers), -2 * centers
    for s in range(0, n, rows):
        Xc = X[s:s + rows]
        # (k, rows) layout: the minimum runs over the short axis 0, see _argmin_axis0
        D = xp.matmul(minus_2c, Xc.T)
        D += c_sq[:, None]
        lab, partial[s:s + rows] = _argmin_axis0(D)
        labels[s:s + rows] = lab
        if with_sums:
            # Sums through a one-hot (k, rows) matrix times the block: one GEMM, faster
            # on the CPU than a bincount per feature (1.4 ms) or one flat bincount
            # (3.8 ms) for 70000 x 10, k = 10, ufunc.at far slower; on the GPU it is
            # cuBLAS with a fixed summation order, whereas bincount with weights and
            # add.at use float atomics, whose varying order would break reproducibility.
            onehot = (lab == xp.arange(k, dtype=lab.dtype)[:, None]).astype(X.dtype)
            sums += onehot @ Xc
    return labels, partial, sums


def _new_centers(X, labels, sums, d_min, centers):
    """Cluster means; an empty cluster takes the point farthest from its centre (by
    ``d_min``, shape (n_samples,)), out of the cluster that held it.  A cluster left with
    no point keeps its centre."""
    xp = get_array_module(X)
    counts = asnumpy(xp.bincount(labels, minlength=centers.shape[0])).astype(np.float64)
    empty = np.flatnonzero(counts == 0)
    if empty.size:
        far = xp.argsort(d_min)[::-1][:empty.size]
        for j, i, donor in zip(empty, asnumpy(far), asnumpy(labels[far])):
            x = X[int(i)].astype(xp.float64)
            sums[int(donor)] -= x
            counts[donor] -= 1
            sums[int(j)] = x
            counts[j] = 1
    counts = xp.asarray(counts)[:, None]
    means = sums / xp.maximum(counts, 1)
    return xp.where(counts > 0, means, centers).astype(X.dtype)


def kmeans_plusplus(X: Array, k: int, rng: Seed = None, n_local_trials: int | None = None,
                    chunk_size: int | None = None) -> Array:
    r"""Greedy k-means++ seeding (Arthur and Vassilvitskii, 2007), as in scikit-learn.

    The first centre is a uniformly drawn point.  For each next one, ``n_local_trials``
    candidates (default ``2 + int(log k)``) are drawn with probability
    :math:`D(x)^2 / \sum_x D(x)^2`, :math:`D(x)` the distance to the nearest centre so far,
    and the one that lowers the potential :math:`\sum_x D(x)^2` most is kept.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The points, finite, on either device.
    k : int
        The number of centres, 1 <= k <= n_samples.
    rng : None, int or numpy.random.Generator, default None
        Host randomness (:func:`~dec_np.backend.seed_sequence`): a seed picks the same
        points on NumPy and CuPy.
    n_local_trials : int, optional
        Candidates drawn per centre; default ``2 + int(log k)``.
    chunk_size : int, optional
        Rows per block, see :func:`squared_distances`.

    Returns
    -------
    centers : ndarray of shape (k, n_features)
        Rows of X, in X's dtype, on X's device.
    """
    xp, X = _check_array(X, k)
    n, k = X.shape[0], int(k)
    rng = seed_sequence(rng)
    n_local_trials = 2 + int(np.log(k)) if n_local_trials is None else int(n_local_trials)
    x_sq = _row_norms(X)
    centers = xp.empty((k, X.shape[1]), dtype=X.dtype)
    first = int(rng.integers(n))
    centers[0] = X[first]
    closest = squared_distances(X, X[first:first + 1], chunk_size=chunk_size,
                                x_squared_norms=x_sq)[:, 0]
    potential = xp.sum(closest, dtype=xp.float64)
    for c in range(1, k):
        # only the uniform draws come from the host: no device-to-host copy per centre
        targets = xp.asarray(rng.random(n_local_trials)) * potential
        candidates = xp.searchsorted(xp.cumsum(closest, dtype=xp.float64), targets)
        candidates = xp.minimum(candidates, n - 1)
        D = squared_distances(X, X[candidates], chunk_size=chunk_size, x_squared_norms=x_sq)
        xp.minimum(D, closest[:, None], out=D)
        potentials = xp.sum(D, axis=0, dtype=xp.float64)
        best = xp.argmin(potentials)
        closest, potential = D[:, best], potentials[best]
        centers[c] = X[candidates[best]]
    return centers


def lloyd(X: Array, centers: Array, max_iter: int = 300, tol: float = 1e-4,
          chunk_size: int | None = None) -> tuple[Array, Array, float, int]:
    r"""Lloyd's iterations from the given centres.

    Alternates :math:`c_i = \arg\min_j |x_i - \mu_j|^2` and :math:`\mu_j` = mean of the
    points with :math:`c_i = j`, until the squared centre shift
    :math:`\sum_j |\mu_j^{new} - \mu_j|^2` is at most ``tol`` times the mean per-feature
    variance of X (scikit-learn's rule) or after ``max_iter`` updates.  An empty cluster
    takes the point farthest from its centre.  Labels and inertia are those of the
    returned centres.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The points, finite, on either device.
    centers : ndarray of shape (n_clusters, n_features)
        The start (not modified); copied to X's device and dtype.
    max_iter : int, default 300
        The most centre updates.
    tol : float, default 1e-4
        Convergence threshold on the squared centre shift, relative to X's mean
        per-feature variance.
    chunk_size : int, optional
        Rows per block, see :func:`squared_distances`.

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features)
        X's dtype, on X's device.
    labels : ndarray of shape (n_samples,)
        int64, on X's device: the nearest returned centre of every point.
    inertia : float
        :math:`\sum_i |x_i - \mu_{c_i}|^2`, summed in float64.
    n_iter : int
        Centre updates done.
    """
    xp, X = _check_array(X, len(centers))
    centers = to_device(centers, xp, dtype=X.dtype)
    if centers.ndim != 2 or centers.shape[1] != X.shape[1]:
        raise ValueError(f"centers must have shape (n_clusters, {X.shape[1]}), "
                         f"got {centers.shape}")
    rows = _chunk_rows(xp, chunk_size, max(centers.shape[0], X.shape[1]))
    tol_abs = tol * float(xp.mean(xp.var(X, axis=0)))
    x_sq = _row_norms(X)
    n_iter, shift = 0, None
    for n_iter in range(1, int(max_iter) + 1):
        labels, partial, sums = _lloyd_pass(X, centers, rows)
        new = _new_centers(X, labels, sums, partial + x_sq, centers)
        shift = float(xp.sum((new - centers).astype(xp.float64) ** 2))
        centers = new
        if shift <= tol_abs:
            break
    if shift != 0.0:  # centres moved since the last assignment: assign again
        labels, partial, _ = _lloyd_pass(X, centers, rows, with_sums=False)
    inertia = float(xp.sum(xp.maximum(partial + x_sq, 0), dtype=xp.float64))
    return centers, labels, inertia, n_iter


@overload
def kmeans(X: Array, n_clusters: int, n_init: int = ..., max_iter: int = ..., tol: float = ...,
           random_state: Seed = ..., chunk_size: int | None = ...,
           return_n_iter: Literal[False] = ...) -> tuple[Array, Array, float]: ...


@overload
def kmeans(X: Array, n_clusters: int, n_init: int = ..., max_iter: int = ..., tol: float = ...,
           random_state: Seed = ..., chunk_size: int | None = ..., *,
           return_n_iter: Literal[True]) -> tuple[Array, Array, float, int]: ...


def kmeans(X: Array, n_clusters: int, n_init: int = 20, max_iter: int = 300, tol: float = 1e-4,
           random_state: Seed = None, chunk_size: int | None = None, return_n_iter: bool = False
           ) -> tuple[Array, Array, float] | tuple[Array, Array, float, int]:
    r"""k-means: ``n_init`` runs of :func:`lloyd` from :func:`kmeans_plusplus` seeds.

    Keeps the run with the lowest inertia :math:`\sum_i \min_j |x_i - \mu_j|^2`.  Works
    on a centred copy of X, as scikit-learn does, so that the distance formula of
    :func:`squared_distances` loses fewer digits.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        NumPy or CuPy; float32 stays float32, non-float dtypes become float64.
    n_clusters : int
        The number of clusters, 1 <= n_clusters <= n_samples.
    n_init : int, default 20
        The number of restarts.
    max_iter : int, default 300
        The most Lloyd updates per restart, see :func:`lloyd`.
    tol : float, default 1e-4
        Relative convergence threshold, see :func:`lloyd`.
    random_state : None, int or numpy.random.Generator, default None
        Seeds the host generator that draws every restart's seeding.
    chunk_size : int, optional
        Rows per block, see :func:`squared_distances`.
    return_n_iter : bool, default False
        Also return the kept run's number of iterations.

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features)
        X's dtype, on X's device.
    labels : ndarray of shape (n_samples,)
        int64, on X's device.
    inertia : float
        :math:`\sum_i \min_j |x_i - \mu_j|^2` of the kept run.
    n_iter : int
        The kept run's number of iterations, only if ``return_n_iter``.

    Raises
    ------
    ValueError
        X not 2-D, empty or with NaN/inf; n_clusters outside [1, n_samples]; n_init or
        max_iter not an integer >= 1; tol not a finite number >= 0.

    Examples
    --------
    Two tight groups of three points:

    >>> import numpy as np
    >>> from dec_np.kmeans import kmeans
    >>> X = np.array([[0, 0], [0, 1], [1, 0], [10, 10], [10, 11], [11, 10]], dtype=float)
    >>> centers, labels, inertia = kmeans(X, 2, n_init=5, random_state=0)
    >>> sorted(centers.round(3).tolist())
    [[0.333, 0.333], [10.333, 10.333]]
    >>> len(set(labels[:3].tolist())), len(set(labels.tolist()))
    (1, 2)
    >>> round(inertia, 4)
    2.6667
    """
    best = _kmeans(X, n_clusters, n_init, max_iter, tol, random_state, chunk_size)
    return best if return_n_iter else best[:3]


def _kmeans(X, n_clusters, n_init=20, max_iter=300, tol=1e-4, random_state=None,
            chunk_size=None):
    """:func:`kmeans` returning (centers, labels, inertia, n_iter)."""
    xp, X = _check_array(X, n_clusters)
    check_count(n_init, "n_init")
    check_count(max_iter, "max_iter")
    check_real(tol, "tol", closed="left")
    rng = seed_sequence(random_state)
    mean = xp.mean(X, axis=0)
    X = X - mean
    # every restart's seeding first, in turn from one generator; then the Lloyd runs, which
    # draw nothing, one after another or side by side (dec_np.threads): the same runs either way
    seeds = [kmeans_plusplus(X, int(n_clusters), rng, chunk_size=chunk_size)
             for _ in range(int(n_init))]
    runs = [None] * len(seeds)

    def restarts(which):
        for r in which:
            runs[r] = lloyd(X, seeds[r], max_iter=max_iter, tol=tol, chunk_size=chunk_size)

    split(restarts, range(len(seeds)), X.size * int(n_clusters) * len(seeds), X)
    best = runs[0]
    for run in runs[1:]:  # the lowest inertia, the first restart among equals
        if run[2] < best[2]:
            best = run
    return (best[0] + mean,) + best[1:]


class KMeans(BaseEstimator):
    """k-means estimator in scikit-learn style, on NumPy or CuPy; parameters as :func:`kmeans`.

    The fitted attributes stay on the device of the array given to :meth:`fit`;
    :meth:`predict` copies the centres to its input's device when that differs.  On the
    package's :class:`~dec_np.base.BaseEstimator`: ``get_params``, ``set_params``,
    ``sklearn.base.clone`` and the unfitted error (:class:`~dec_np.base.NotFittedError`)
    behave as :class:`dec_np.DEC`'s.

    Parameters
    ----------
    n_clusters : int
        The number of clusters, 1 <= n_clusters <= n_samples.
    n_init : int, default 20
        The number of k-means++ restarts; the lowest inertia is kept.
    max_iter : int, default 300
        The most Lloyd updates per restart.
    tol : float, default 1e-4
        Relative convergence threshold, see :func:`lloyd`.
    random_state : None, int or numpy.random.Generator, default None
        Seeds the restarts' seeding.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        The centres, on the device of the training data.
    labels_ : ndarray of shape (n_samples,)
        int64, the cluster of every training point.
    inertia_ : float
        Sum of squared distances of the training points to their centres.
    n_iter_ : int
        Lloyd updates of the kept run.
    n_features_in_ : int
        Width of the training data.

    Examples
    --------
    >>> import numpy as np
    >>> from dec_np.kmeans import KMeans
    >>> X = np.array([[0, 0], [0, 1], [1, 0], [10, 10], [10, 11], [11, 10]], dtype=float)
    >>> km = KMeans(n_clusters=2, n_init=5, random_state=0).fit(X)
    >>> sorted(km.cluster_centers_.round(3).tolist())
    [[0.333, 0.333], [10.333, 10.333]]
    >>> new = km.predict(np.array([[0.5, 0.5], [9.0, 9.0]]))
    >>> bool(new[0] == km.labels_[0]), bool(new[1] == km.labels_[3])
    (True, True)
    >>> round(km.inertia_, 4), km.n_features_in_
    (2.6667, 2)
    """

    def __init__(self, n_clusters: int, n_init: int = 20, max_iter: int = 300, tol: float = 1e-4,
                 random_state: Seed = None) -> None:
        self.n_clusters = n_clusters
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    _estimator_type = "clusterer"

    def fit(self, X: Array, y: object = None) -> KMeans:
        """Cluster X; sets the attributes ending in ``_``.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Finite data, NumPy or CuPy.
        y : None
            Ignored; present for the scikit-learn API.

        Returns
        -------
        self : KMeans
            The fitted estimator.
        """
        _, X = _check_array(validate_data(X, owner="KMeans"))
        centers, labels, inertia, n_iter = _kmeans(
            X, self.n_clusters, n_init=self.n_init, max_iter=self.max_iter, tol=self.tol,
            random_state=self.random_state)
        self.cluster_centers_, self.labels_ = centers, labels
        self.inertia_, self.n_iter_, self.n_features_in_ = inertia, n_iter, X.shape[1]
        return self

    def predict(self, X: Array) -> Array:
        """Nearest centre of every row of X.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Finite data with the training width, on either device.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            int64, on X's device.

        Raises
        ------
        NotFittedError
            Before :meth:`fit` (a ValueError and an AttributeError, and scikit-learn's
            ``NotFittedError`` where scikit-learn is imported).
        ValueError
            For X of another width.
        """
        if not hasattr(self, "cluster_centers_"):
            raise not_fitted("this KMeans instance is not fitted yet; call fit(X) first")
        xp, X = _check_array(validate_data(X, self.n_features_in_, "KMeans"))
        centers = to_device(self.cluster_centers_, xp).astype(X.dtype, copy=False)
        rows = _chunk_rows(xp, None, max(centers.shape[0], X.shape[1]))
        return _lloyd_pass(X, centers, rows, with_sums=False)[0]

    def fit_predict(self, X: Array, y: object = None) -> Array:
        """Fit, then return ``labels_``.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Finite data, NumPy or CuPy.
        y : None
            Ignored; present for the scikit-learn API.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            int64, on X's device.
        """
        return self.fit(X).labels_

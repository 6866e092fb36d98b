"""DEC's equations as pure functions: soft assignment, target distribution, KL loss, gradients.

All functions take arrays of either backend and return arrays of the same backend and
dtype.  Equation numbers refer to Xie, Girshick & Farhadi, ICML 2016.
"""
from __future__ import annotations

from .backend import Array, get_array_module

__all__ = ["squared_distances", "soft_assignment", "target_distribution", "kl_divergence",
           "kl_gradients"]


def squared_distances(z: Array, mu: Array) -> Array:
    """``|z_i - mu_j|^2`` through one matrix product: ``|z|^2 - 2 z.mu^T + |mu|^2``, clipped at 0.

    Parameters
    ----------
    z : ndarray of shape (N, d)
        Embedded points.
    mu : ndarray of shape (k, d)
        Cluster centroids, same dtype and device as ``z``.

    Returns
    -------
    d2 : ndarray of shape (N, k)
        ``d2[i, j] = |z_i - mu_j|^2``, never negative.
    """
    xp = get_array_module(z, mu)
    d2 = (z * z).sum(axis=1, keepdims=True) - 2 * (z @ mu.T) + (mu * mu).sum(axis=1)
    return xp.maximum(d2, 0, out=d2)


def soft_assignment(z: Array, mu: Array, alpha: float = 1.0) -> Array:
    """Student's t soft assignment of points to centroids (Eq. 1).

    .. math:: q_{ij} = \\frac{(1 + \\lVert z_i - \\mu_j \\rVert^2 / \\alpha)^{-\\frac{\\alpha+1}{2}}}
              {\\sum_{j'} (1 + \\lVert z_i - \\mu_{j'} \\rVert^2 / \\alpha)^{-\\frac{\\alpha+1}{2}}}

    Computed as a softmax of the log-kernel, so huge distances give no 0/0.

    Parameters
    ----------
    z : ndarray of shape (N, d)
        Embedded points.
    mu : ndarray of shape (k, d)
        Cluster centroids.
    alpha : float, default 1.0
        Degrees of freedom of the Student's t distribution.

    Returns
    -------
    q : ndarray of shape (N, k)
        ``q[i, j]``, the probability of assigning point i to cluster j; rows sum to 1.
        Same dtype and device as ``z``.

    Examples
    --------
    A point on a centroid and one 4 away: kernels 1 and 1 / (1 + 16).

    >>> import numpy as np
    >>> from dec_np.dec_math import soft_assignment
    >>> z = np.array([[0.0, 0.0], [1.0, 0.0], [4.0, 0.0]])
    >>> mu = np.array([[0.0, 0.0], [4.0, 0.0]])
    >>> q = soft_assignment(z, mu)
    >>> q.round(4).tolist()
    [[0.9444, 0.0556], [0.8333, 0.1667], [0.0556, 0.9444]]
    >>> round(17 / 18, 4)
    0.9444
    """
    xp = get_array_module(z, mu)
    logk = xp.log1p(squared_distances(z, mu) / alpha) * (-(alpha + 1.0) / 2.0)
    logk -= logk.max(axis=1, keepdims=True)
    q = xp.exp(logk, out=logk)
    q /= q.sum(axis=1, keepdims=True)
    return q


def target_distribution(q: Array) -> Array:
    """Auxiliary target distribution (Eq. 3).

    .. math:: p_{ij} = \\frac{q_{ij}^2 / f_j}{\\sum_{j'} q_{ij'}^2 / f_{j'}}, \\qquad f_j = \\sum_i q_{ij}

    Squaring sharpens each row towards its most confident cluster; dividing by the
    soft cluster frequency f_j keeps large clusters from absorbing the others.  f_j is
    taken over all rows given, so pass q of the whole data set.

    Parameters
    ----------
    q : ndarray of shape (N, k)
        Soft assignments (Eq. 1) of the whole data set, rows summing to 1.

    Returns
    -------
    p : ndarray of shape (N, k)
        The target distribution, rows summing to 1, same dtype and device as ``q``.

    Examples
    --------
    >>> import numpy as np
    >>> from dec_np.dec_math import soft_assignment, target_distribution
    >>> z = np.array([[0.0, 0.0], [1.0, 0.0], [4.0, 0.0]])
    >>> mu = np.array([[0.0, 0.0], [4.0, 0.0]])
    >>> p = target_distribution(soft_assignment(z, mu))
    >>> p.round(4).tolist()              # sharper than q: 0.8333 becomes 0.9409
    [[0.9946, 0.0054], [0.9409, 0.0591], [0.0022, 0.9978]]
    """
    xp = get_array_module(q)
    tiny = xp.finfo(q.dtype).tiny
    f = xp.maximum(q.sum(axis=0), tiny)
    # Divide each row by its maximum first, so q^2 cannot underflow to an all-zero row.
    r = q / q.max(axis=1, keepdims=True)
    w = r * r / f
    w /= w.sum(axis=1, keepdims=True)
    return w


def kl_divergence(p: Array, q: Array) -> float:
    """KL divergence loss (Eq. 2), summed over the points given (no mean).

    .. math:: L = \\mathrm{KL}(P \\Vert Q) = \\sum_i \\sum_j p_{ij} \\log \\frac{p_{ij}}{q_{ij}}

    Terms with p_ij = 0 contribute 0; q is floored at the dtype's smallest normal
    number so an underflowed q gives a large finite loss, not inf.

    Parameters
    ----------
    p : ndarray of shape (N, k)
        Target distribution (Eq. 3), rows summing to 1.
    q : ndarray of shape (N, k)
        Soft assignment (Eq. 1) of the same points, same dtype and device.

    Returns
    -------
    loss : float
        :math:`\\sum_{ij} p_{ij} \\log(p_{ij} / q_{ij})` over all N rows, >= 0.

    Examples
    --------
    >>> import numpy as np
    >>> from dec_np.dec_math import kl_divergence, soft_assignment, target_distribution
    >>> z = np.array([[0.0, 0.0], [1.0, 0.0], [4.0, 0.0]])
    >>> mu = np.array([[0.0, 0.0], [4.0, 0.0]])
    >>> q = soft_assignment(z, mu)
    >>> round(kl_divergence(target_distribution(q), q), 4)
    0.1395
    >>> kl_divergence(q, q)
    0.0
    """
    xp = get_array_module(p, q)
    tiny = xp.finfo(q.dtype).tiny
    pos = p > 0
    terms = xp.where(pos, p * (xp.log(xp.where(pos, p, 1)) - xp.log(xp.maximum(q, tiny))), 0)
    return float(terms.sum())


def kl_gradients(z: Array, mu: Array, p: Array, q: Array, alpha: float = 1.0
                 ) -> tuple[Array, Array]:
    """Closed-form gradients of :func:`kl_divergence` (Eq. 4 and 5), p held constant.

    .. math::
        \\frac{\\partial L}{\\partial z_i} = \\frac{\\alpha+1}{\\alpha} \\sum_j
            \\left(1 + \\frac{\\lVert z_i-\\mu_j \\rVert^2}{\\alpha}\\right)^{-1} (p_{ij} - q_{ij})(z_i - \\mu_j)

        \\frac{\\partial L}{\\partial \\mu_j} = -\\frac{\\alpha+1}{\\alpha} \\sum_i
            \\left(1 + \\frac{\\lVert z_i-\\mu_j \\rVert^2}{\\alpha}\\right)^{-1} (p_{ij} - q_{ij})(z_i - \\mu_j)

    With ``c_ij = (alpha+1)/alpha * (p_ij - q_ij) / (1 + |z_i - mu_j|^2 / alpha)`` both are
    matrix products: ``dz = c.sum(1) * z - c @ mu`` and ``dmu = c.T @ z - c.sum(0) * mu``
    (negated).  Needs rows of p summing to 1.

    Parameters
    ----------
    z : ndarray of shape (N, d)
        Embedded points.
    mu : ndarray of shape (k, d)
        Cluster centroids.
    p, q : ndarray of shape (N, k)
        Target and current soft assignment of the same points.
    alpha : float, default 1.0
        Degrees of freedom of the Student's t kernel, as in :func:`soft_assignment`.

    Returns
    -------
    dz : ndarray of shape (N, d)
        :math:`\\partial L / \\partial z_i` (Eq. 4), back-propagated into the encoder.
    dmu : ndarray of shape (k, d)
        :math:`\\partial L / \\partial \\mu_j` (Eq. 5).

    Examples
    --------
    Each point is pulled towards the centroid its target favours, and the centroids
    follow (a descent step is ``z - lr * dz``):

    >>> import numpy as np
    >>> from dec_np.dec_math import kl_gradients, soft_assignment, target_distribution
    >>> z = np.array([[0.0, 0.0], [1.0, 0.0], [4.0, 0.0]])
    >>> mu = np.array([[0.0, 0.0], [4.0, 0.0]])
    >>> q = soft_assignment(z, mu)
    >>> dz, dmu = kl_gradients(z, mu, target_distribution(q), q)
    >>> dz[:, 0].round(4).tolist()
    [0.0236, 0.172, -0.0251]
    >>> dmu[:, 0].round(4).tolist()
    [-0.0824, -0.0881]
    >>> dz.shape, dmu.shape
    ((3, 2), (2, 2))
    """
    c = (p - q) / (1.0 + squared_distances(z, mu) / alpha)
    c *= (alpha + 1.0) / alpha
    dz = c.sum(axis=1, keepdims=True) * z - c @ mu
    dmu = -(c.T @ z - c.sum(axis=0)[:, None] * mu)
    return dz, dmu

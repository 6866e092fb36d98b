"""DEC's equations as pure functions: soft assignment, target distribution, KL loss, gradients.

All functions take arrays of either backend and return arrays of the same backend and
dtype.  Equation numbers refer to Xie, Girshick & Farhadi, ICML 2016.  The public functions
check their input and refuse what they cannot compute (ValueError, TypeError for a dtype);
DEC's training loop calls the unchecked ``_soft_assignment``, ``_kl_gradients``... directly.
"""
from __future__ import annotations

import contextlib
import math
import numbers

from .backend import Array, get_array_module

__all__ = ["squared_distances", "soft_assignment", "target_distribution", "kl_divergence",
           "kl_gradients"]



def _check_matrix(a, name, cols=None, cols_of=None):
    """The array module of ``a`` once ``a`` is a finite 2-D floating-point array.

    TypeError for what is not a NumPy or CuPy array of floats (integers would overflow in
    ``a * a``, complex numbers have no order); ValueError for another shape, a width other
    than ``cols`` (named by ``cols_of``), NaN or inf.
    """
    if not (hasattr(a, "dtype") and hasattr(a, "ndim")):
        raise TypeError(f"{name} must be a NumPy or CuPy array, got {type(a).__name__}")
    if a.dtype.kind != "f":
        raise TypeError(f"{name} must hold real floating-point numbers (float32 or float64), "
                        f"got dtype {a.dtype}; cast it first, e.g. {name}.astype('float64')")
    if a.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got shape {a.shape}")
    if cols is not None and a.shape[1] != cols:
        raise ValueError(f"{name} has {a.shape[1]} columns but {cols_of} has {cols}")
    xp = get_array_module(a)
    if not bool(xp.isfinite(a).all()):
        raise ValueError(f"{name} contains NaN or inf")
    return xp


def _check_distribution(a, name, shape=None, shape_of=None):
    """Like :func:`_check_matrix`, and ``a`` has no negative entry nor an all-zero row (and
    the shape of ``shape_of`` if given)."""
    xp = _check_matrix(a, name)
    if shape is not None and a.shape != shape:
        raise ValueError(f"{name} must have the shape {shape} of {shape_of}, got {a.shape}")
    if bool((a < 0).any()):
        raise ValueError(f"{name} has negative entries; its rows must be distributions")
    zero = xp.flatnonzero(xp.logical_not((a > 0).any(axis=1)))
    if zero.size:
        raise ValueError(f"{name} has {int(zero.size)} all-zero row(s) (row {int(zero[0])} first);"
                         " its rows must be distributions")
    return xp


def _check_alpha(alpha):
    """``alpha`` as a float, if it is a finite real number > 0; else ValueError."""
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) \
            or not math.isfinite(alpha) or not alpha > 0:
        raise ValueError(f"alpha must be a finite number > 0, got {alpha!r}")
    return float(alpha)


def _check_points(z, mu):
    """z (N, d) and mu (k, d): finite floating-point matrices of the same width."""
    _check_matrix(z, "z")
    _check_matrix(mu, "mu", z.shape[1], "z")


def _quiet(xp):
    """NumPy's overflow warnings off (CuPy has none), where an overflow is reported anyway."""
    errstate = getattr(xp, "errstate", None)
    return errstate(over="ignore", invalid="ignore", divide="ignore") if errstate \
        else contextlib.nullcontext()


def _finite_or_raise(a, what, alpha, z, mu):
    """``a`` if it is all finite, else ValueError: the computation overflowed in a's dtype."""
    xp = get_array_module(a)
    if bool(xp.isfinite(a).all()):
        return a
    big = max(float(xp.abs(v).max()) if v.size else 0.0 for v in (z, mu))
    raise ValueError(f"{what} is not finite in {a.dtype}: |z - mu|^2 / alpha overflows "
                     f"(alpha={alpha!r}, max |z|, |mu| = {big:.3g}); rescale z and mu or "
                     "choose alpha nearer 1")


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

    Raises
    ------
    TypeError
        If z or mu is not an array of floating-point numbers.
    ValueError
        If they are not 2-D of the same width, or hold NaN or inf.
    """
    _check_points(z, mu)
    return _squared_distances(z, mu)


def _squared_distances(z, mu):
    """:func:`squared_distances` without the checks."""
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
        Same dtype and device as ``z``.  Where ``|z|^2`` would overflow float32 (``|z|`` or
        ``|mu|`` beyond about 4.6e18) q is computed in float64 and rounded back.

    Raises
    ------
    TypeError
        If z or mu is not an array of floating-point numbers (integers would overflow).
    ValueError
        If they are not 2-D of the same width, hold NaN or inf, if alpha is not a finite
        number > 0, or if q overflows even in float64 (e.g. alpha=1e-300).

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
    _check_points(z, mu)
    alpha = _check_alpha(alpha)
    xp = get_array_module(z, mu)
    dtype = xp.result_type(z, mu)
    big = max(float(xp.abs(v).max()) if v.size else 0.0 for v in (z, mu))
    if dtype.itemsize < 8 and big > 0.25 * math.sqrt(float(xp.finfo(dtype).max)):
        # |z|^2 - 2 z.mu + |mu|^2 would overflow a narrow dtype (float32 beyond about
        # 4.6e18): compute in float64 and round q back
        z, mu = z.astype(xp.float64), mu.astype(xp.float64)
    with _quiet(xp):  # an overflow is reported below, as a ValueError
        q = _soft_assignment(z, mu, alpha).astype(dtype, copy=False)
    return _finite_or_raise(q, "q", alpha, z, mu)


def _soft_assignment(z, mu, alpha=1.0):
    """:func:`soft_assignment` without the checks (DEC's training loop)."""
    xp = get_array_module(z, mu)
    logk = xp.log1p(_squared_distances(z, mu) / alpha) * (-(alpha + 1.0) / 2.0)
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

    Raises
    ------
    TypeError
        If q is not an array of floating-point numbers.
    ValueError
        If q is not 2-D, holds NaN, inf or negative entries, or has an all-zero row.

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
    _check_distribution(q, "q")
    return _target_distribution(q)


def _target_distribution(q):
    """:func:`target_distribution` without the checks (DEC's training loop)."""
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

    Raises
    ------
    TypeError
        If p or q is not an array of floating-point numbers.
    ValueError
        If they differ in shape, are not 2-D, hold NaN, inf or negative entries, or have an
        all-zero row.

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
    _check_distribution(p, "p")
    _check_distribution(q, "q", p.shape, "p")
    return _kl_divergence(p, q)


def _kl_divergence(p, q):
    """:func:`kl_divergence` without the checks (DEC's training loop)."""
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

    Raises
    ------
    TypeError
        If an argument is not an array of floating-point numbers.
    ValueError
        If z and mu are not 2-D of the same width, p and q not both of shape (N, k), an
        argument holds NaN or inf, p or q negative entries or an all-zero row, alpha is not
        a finite number > 0, or the gradients overflow.

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
    _check_points(z, mu)
    xp = get_array_module(z, mu)
    shape = (z.shape[0], mu.shape[0])
    _check_distribution(p, "p", shape, "(rows of z, rows of mu)")
    _check_distribution(q, "q", shape, "(rows of z, rows of mu)")
    alpha = _check_alpha(alpha)
    with _quiet(xp):
        dz, dmu = _kl_gradients(z, mu, p, q, alpha)
    return _finite_or_raise(dz, "dz", alpha, z, mu), _finite_or_raise(dmu, "dmu", alpha, z, mu)


def _kl_gradients(z, mu, p, q, alpha=1.0):
    """:func:`kl_gradients` without the checks (DEC's training loop)."""
    c = (p - q) / (1.0 + _squared_distances(z, mu) / alpha)
    c *= (alpha + 1.0) / alpha
    dz = c.sum(axis=1, keepdims=True) * z - c @ mu
    dmu = -(c.T @ z - c.sum(axis=0)[:, None] * mu)
    return dz, dmu

"""Reference solutions of tutorial 06 (the gradients of KL(P || Q), Eq. 4 and 5)."""


def _coefficients(z, mu, p, q, alpha):
    """c_ij = ((alpha+1)/alpha) (p_ij - q_ij) / (1 + |z_i - mu_j|^2 / alpha), shape (N, k)."""
    d2 = ((z[:, None, :] - mu[None, :, :]) ** 2).sum(axis=2)
    return (alpha + 1.0) / alpha * (p - q) / (1.0 + d2 / alpha)


def dL_dz(z, mu, p, q, alpha=1.0):
    """Eq. (4): dL/dz_i = sum_j c_ij (z_i - mu_j), shape (N, d)."""
    c = _coefficients(z, mu, p, q, alpha)
    return (c[:, :, None] * (z[:, None, :] - mu[None, :, :])).sum(axis=1)


def dL_dmu(z, mu, p, q, alpha=1.0):
    """Eq. (5): dL/dmu_j = -sum_i c_ij (z_i - mu_j), shape (k, d)."""
    c = _coefficients(z, mu, p, q, alpha)
    return -(c[:, :, None] * (z[:, None, :] - mu[None, :, :])).sum(axis=0)

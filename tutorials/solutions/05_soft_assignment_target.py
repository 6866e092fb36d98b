"""Reference solutions of tutorial 05 (the soft assignment Q and the target P)."""


def student_t_q(z, mu, alpha=1.0):
    """Eq. (1): q_ij = (1 + |z_i - mu_j|^2 / alpha)^(-(alpha+1)/2), normalised over j."""
    d2 = ((z[:, None, :] - mu[None, :, :]) ** 2).sum(axis=2)
    kernel = (1.0 + d2 / alpha) ** (-(alpha + 1.0) / 2.0)
    return kernel / kernel.sum(axis=1, keepdims=True)


def target_p(q):
    """Eq. (3): p_ij = (q_ij^2 / f_j) / sum_j' (q_ij'^2 / f_j'), f_j = sum_i q_ij."""
    w = q ** 2 / q.sum(axis=0)
    return w / w.sum(axis=1, keepdims=True)

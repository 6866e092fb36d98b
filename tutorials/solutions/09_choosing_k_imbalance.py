"""Reference solution of tutorial 09 (choosing k): the generalizability G = L_train / L_validation."""
import numpy as np


def _mean_kl(q):
    """(1/n) sum_i sum_j p_ij log(p_ij / q_ij), with P the target of this q (Eq. 3)."""
    q = np.asarray(q, dtype=np.float64)
    f = q.sum(axis=0)                                # soft cluster sizes of this split
    w = q ** 2 / f
    p = w / w.sum(axis=1, keepdims=True)
    return float(np.sum(p * np.log(p / q)) / len(q))


def generalizability(q_train, q_val):
    """L_train, L_val and G = L_train / L_val."""
    l_train, l_val = _mean_kl(q_train), _mean_kl(q_val)
    return l_train, l_val, l_train / l_val

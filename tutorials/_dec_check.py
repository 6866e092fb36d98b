"""Scaffolding of tutorial 07's check: one step of DEC.fit, rebuilt, for a step to match.

``first_step(sae, X, Xs, K, D, input_scaling, make_rng)`` runs
``DEC(..., max_iter=1, update_interval=1)``, which runs k-means, draws the first mini-batch
and takes exactly one SGD step, and rebuilds the state that step started from, so that a
student's step can be run from the same state and compared with it.
"""
from __future__ import annotations

import copy

import numpy as np

from dec_np import DEC
from dec_np.dec_math import soft_assignment, target_distribution
from dec_np.kmeans import kmeans
from dec_np.optim import SGD
from dec_np.utils import BatchStream


def first_step(sae, X, Xs, K, D, input_scaling, make_rng):
    """What DEC.fit's first step changes, and a function that takes a given step instead.

    Parameters
    ----------
    sae : StackedAutoencoder, pretrained (not changed)
    X : ndarray of shape (N, d), the data as DEC.fit receives it
    Xs : ndarray of shape (N, d), float32, X scaled as DEC.fit scales it
    K : int, the number of clusters
    D : dict, DEC's clustering settings (alpha, batch_size, lr, momentum, n_init, ...)
    input_scaling : str or None, the schedule's input scaling
    make_rng : callable returning a generator in its state right after pretraining

    Returns
    -------
    expected : dict of ndarray
        The change of every encoder array ("enc0.W", ...) and of "mu" in DEC.fit's step.
    take_step : callable
        ``take_step(step)`` calls ``step(encoder, xb, pb, params, grads, opt, alpha)`` on a
        copy of ``sae`` from the same state and returns the same changes, by the same names.
    """
    one = DEC(K, autoencoder=sae, input_scaling=input_scaling, random_state=make_rng(),
              **dict(D, max_iter=1, update_interval=1)).fit(X)
    g = make_rng()
    z0 = sae.encode(Xs)
    mu0, _, _ = kmeans(z0, K, n_init=D["n_init"], random_state=g)  # what fit's k-means gives
    idx0 = next(BatchStream(len(Xs), D["batch_size"], g))[1]       # fit's first mini-batch
    p0 = target_distribution(soft_assignment(z0, mu0, D["alpha"]))
    before = {name: w.copy() for name, w in sae.params.items() if name.startswith("enc")}
    before["mu"] = mu0.astype(np.float32)
    expected = {name: one.autoencoder_.params[name] - w for name, w in before.items()
                if name != "mu"}
    expected["mu"] = one.cluster_centers_ - before["mu"]

    def take_step(step):
        ae = copy.deepcopy(sae)
        params = {name: w for name, w in ae.params.items() if name.startswith("enc")}
        grads = {name: gw for name, gw in ae.grads.items() if name.startswith("enc")}
        params["mu"] = before["mu"].copy()
        step(ae.encoder(), Xs[idx0].copy(), p0[idx0], params, grads,
             SGD(D["lr"], D["momentum"]), D["alpha"])
        return {name: params[name] - before[name] for name in before}

    return expected, take_step

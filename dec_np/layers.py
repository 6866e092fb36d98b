"""Hand-written layers with explicit forward and backward passes (cs231n style).

Each layer has ``params`` and ``grads`` dicts with the same keys; ``forward(x, train)``
stores in ``self.cache`` exactly what ``backward(dout)`` needs, and ``backward`` returns
``dx`` and overwrites ``self.grads``.  The same code runs on NumPy and CuPy arrays.
"""
from __future__ import annotations

import numpy as np

from .backend import default_rng, get_array_module, seed_sequence


class Dense:
    """Affine layer ``out = x @ W + b``.

    Parameters
    ----------
    n_in, n_out : int
        Input and output widths; ``W`` has shape (n_in, n_out), ``b`` shape (n_out,).
    init_std : float or "glorot"
        Weights drawn from N(0, init_std^2) (the paper: 0.01), or Glorot-uniform.
        Biases start at zero.
    dtype : numpy dtype
        float32 for training, float64 for gradient checks.
    xp : module
        numpy or cupy: where the parameters live.
    random_state : None, int or numpy Generator
        Seeds the initial weights.  They are drawn on the host, so a seed gives the
        same weights on either backend.
    """

    def __init__(self, n_in, n_out, init_std=0.01, dtype=np.float32, xp=np, random_state=None):
        rng = seed_sequence(random_state)
        if init_std == "glorot":
            limit = np.sqrt(6.0 / (n_in + n_out))
            W = rng.uniform(-limit, limit, size=(n_in, n_out))
        else:
            W = rng.standard_normal((n_in, n_out)) * float(init_std)
        self.params = {"W": xp.asarray(W, dtype=dtype), "b": xp.zeros(n_out, dtype=dtype)}
        self.grads = {k: xp.zeros_like(v) for k, v in self.params.items()}
        self.cache = None

    def forward(self, x, train=False):
        """x: (N, n_in) -> out: (N, n_out)."""
        self.cache = x
        out = x @ self.params["W"]
        out += self.params["b"]  # in place: no second (N, n_out) temporary
        return out

    def backward(self, dout, need_dx=True):
        """dout: (N, n_out) -> dx: (N, n_in); fills grads "W" (n_in, n_out), "b" (n_out,).

        ``need_dx=False`` skips the product for ``dx`` (the first layer of a network
        has no use for it) and returns None.
        """
        x = self.cache
        xp = get_array_module(dout)
        xp.matmul(x.T, dout, out=self.grads["W"])
        dout.sum(axis=0, out=self.grads["b"])
        return dout @ self.params["W"].T if need_dx else None


class ReLU:
    """Rectified linear unit ``out = max(x, 0)``; no parameters."""

    def __init__(self):
        self.params, self.grads, self.cache = {}, {}, None

    def forward(self, x, train=False):
        xp = get_array_module(x)
        out = xp.maximum(x, 0)
        self.cache = out
        return out

    def backward(self, dout, need_dx=True):
        """dx = dout where the output was positive, else 0 (the subgradient at 0 is 0)."""
        return dout * (self.cache > 0)


class Dropout:
    """Inverted dropout: zero each unit with probability ``p_drop``, scale the rest by 1/(1-p_drop).

    At inference (``train=False``) it is the identity.  The mask comes from a random
    generator on the data's device, created from ``random_state`` at the first call,
    and ``backward`` reuses it.  Set ``freeze_mask = True`` to reuse the last mask in
    later forward passes too (gradient checks need a fixed mask).
    """

    def __init__(self, p_drop, random_state=None):
        p_drop = float(p_drop)
        if not 0.0 <= p_drop < 1.0:
            raise ValueError(f"p_drop must be in [0, 1), got {p_drop}")
        self.p_drop = p_drop
        self.params, self.grads, self.cache = {}, {}, None
        self.random_state = random_state
        self.rng = None
        self.freeze_mask = False

    def forward(self, x, train=False):
        if not train or self.p_drop == 0.0:
            self.cache = None
            return x
        xp = get_array_module(x)
        if not (self.freeze_mask and self.cache is not None):
            if self.rng is None:
                seed = int(seed_sequence(self.random_state).integers(2**31 - 1))
                self.rng = default_rng(xp, seed)
            keep = self.rng.random(x.shape, dtype=x.dtype) >= self.p_drop
            self.cache = keep.astype(x.dtype) * x.dtype.type(1.0 / (1.0 - self.p_drop))
        return x * self.cache

    def backward(self, dout, need_dx=True):
        return dout if self.cache is None else dout * self.cache


class Sequential:
    """A chain of layers; ``params`` and ``grads`` are flattened as ``"<index>.<key>"``."""

    def __init__(self, *layers):
        self.layers = list(layers)

    @property
    def params(self):
        return {f"{i}.{k}": v for i, l in enumerate(self.layers) for k, v in l.params.items()}

    @property
    def grads(self):
        return {f"{i}.{k}": v for i, l in enumerate(self.layers) for k, v in l.grads.items()}

    def forward(self, x, train=False):
        for layer in self.layers:
            x = layer.forward(x, train)
        return x

    def backward(self, dout, need_dx=True):
        """Back-propagate ``dout`` through every layer; returns dx (None if not ``need_dx``).

        Without ``need_dx`` the pass stops at the first layer that has parameters: the
        layers below it (a leading Dropout, say) need no gradient, and that layer skips
        the product for its dx.
        """
        first = 0 if need_dx else next((i for i, l in enumerate(self.layers) if l.params), 0)
        for i in range(len(self.layers) - 1, first - 1, -1):
            dout = self.layers[i].backward(dout, need_dx=need_dx or i > first)
        return dout if need_dx else None

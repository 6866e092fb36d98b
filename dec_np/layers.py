"""Hand-written layers with explicit forward and backward passes (cs231n style).

Each layer has ``params`` and ``grads`` dicts with the same keys; ``forward(x, train)``
stores in ``self.cache`` exactly what ``backward(dout)`` needs, and ``backward`` returns
``dx`` and overwrites ``self.grads``.  The same code runs on NumPy and CuPy arrays.
"""
from __future__ import annotations

from typing import Any, Literal

import numpy as np

from .backend import (Array, ArrayModule, DTypeLike, Seed, default_rng, end_to_end, get_array_module,
                      seed_sequence)
from .threads import beside, halves

__all__ = ["Dense", "ReLU", "Dropout", "Sequential", "pack_params"]


class Dense:
    """Affine layer ``out = x @ W + b``.

    Parameters
    ----------
    n_in, n_out : int
        Input and output widths; ``W`` has shape (n_in, n_out), ``b`` shape (n_out,).
    init_std : float or "glorot", default 0.01
        Weights drawn from N(0, init_std^2) (the paper: 0.01), or Glorot-uniform.
        Biases start at zero.
    dtype : numpy dtype, default numpy.float32
        float32 for training, float64 for gradient checks.
    xp : module, default numpy
        numpy or cupy: where the parameters live.
    random_state : None, int or numpy Generator, default None
        Seeds the initial weights.  They are drawn on the host, so a seed gives the
        same weights on either backend.

    Attributes
    ----------
    params : dict of str to Array
        ``"W"`` of shape (n_in, n_out) and ``"b"`` of shape (n_out,).
    grads : dict of str to Array
        The gradients of the last :meth:`backward`, same keys and shapes as ``params``.
    cache : Array or None
        The input of the last :meth:`forward`, kept for :meth:`backward`.

    Examples
    --------
    >>> import numpy as np
    >>> from dec_np.layers import Dense
    >>> layer = Dense(3, 2, random_state=0)
    >>> layer.params["W"].shape, layer.params["b"].shape
    ((3, 2), (2,))
    >>> layer.params["W"][:] = [[1, 0], [0, 1], [1, 1]]
    >>> layer.params["b"][:] = [0.5, -0.5]
    >>> out = layer.forward(np.array([[1.0, 2.0, 3.0]], dtype=np.float32))
    >>> out.round(3).tolist()
    [[4.5, 4.5]]
    >>> dx = layer.backward(np.ones((1, 2), dtype=np.float32))
    >>> dx.tolist(), layer.grads["b"].tolist()
    ([[1.0, 1.0, 2.0]], [1.0, 1.0])
    """

    def __init__(self, n_in: int, n_out: int, init_std: float | Literal["glorot"] = 0.01,
                 dtype: DTypeLike = np.float32, xp: ArrayModule = np,
                 random_state: Seed = None) -> None:
        rng = seed_sequence(random_state)
        if init_std == "glorot":
            limit = np.sqrt(6.0 / (n_in + n_out))
            W = rng.uniform(-limit, limit, size=(n_in, n_out))
        else:
            W = rng.standard_normal((n_in, n_out)) * float(init_std)
        self.params = {"W": xp.asarray(W, dtype=dtype), "b": xp.zeros(n_out, dtype=dtype)}
        self.grads = {k: xp.zeros_like(v) for k, v in self.params.items()}
        self.cache: Array | None = None

    def forward(self, x: Array, train: bool = False) -> Array:
        """Affine map of a batch: ``out = x @ W + b``; stores ``x`` for :meth:`backward`.

        Parameters
        ----------
        x : Array of shape (N, n_in)
            The batch, on the device and in the dtype of the parameters.
        train : bool, default False
            Unused (the layer behaves the same in training and inference); part of the
            common layer interface.

        Returns
        -------
        out : Array of shape (N, n_out)
            The layer's output.
        """
        self.cache = x
        xp = get_array_module(x)
        W, b = self.params["W"], self.params["b"]
        out = xp.empty((x.shape[0], W.shape[1]), dtype=xp.result_type(x, W))

        def rows(s):  # rows are independent: under threads.host_threads two halves at once
            xp.matmul(x[s], W, out=out[s])
            out[s] += b  # in place: no second (N, n_out) temporary

        def cols(s):  # so are the output columns
            xp.matmul(x, W[:, s], out=out[:, s])
            out[:, s] += b[s]

        # each half reads all of the operand not halved: halve the side of the larger one
        # (W, unless the batch is larger than the layer is wide)
        if W.shape[1] > x.shape[0]:
            halves(cols, W.shape[1], x.size * W.shape[1], x, unit=64)
        else:
            halves(rows, x.shape[0], x.size * W.shape[1], x)
        return out

    def backward(self, dout: Array, need_dx: bool = True) -> Array | None:
        """Gradients of the last :meth:`forward`: ``dW = x^T dout``, ``db = sum_i dout_i``.

        Parameters
        ----------
        dout : Array of shape (N, n_out)
            Gradient of the loss with respect to the layer's output.
        need_dx : bool, default True
            ``False`` skips the product for ``dx`` (the first layer of a network has no
            use for it) and returns None.

        Returns
        -------
        dx : Array of shape (N, n_in), or None
            ``dout @ W^T``.  ``grads["W"]`` (n_in, n_out) and ``grads["b"]`` (n_out,) are
            overwritten.
        """
        x = self.cache
        if x is None:
            raise RuntimeError("Dense.backward needs a forward pass first")
        xp = get_array_module(dout)

        def param_grads():  # dW = x^T dout, db = sum_i dout_i
            xp.matmul(x.T, dout, out=self.grads["W"])
            dout.sum(axis=0, out=self.grads["b"])

        if not need_dx:  # dW alone, by its rows (the columns of x), two halves at once
            halves(lambda s: xp.matmul(x[:, s].T, dout, out=self.grads["W"][s]), x.shape[1],
                   x.size * dout.shape[1], dout)
            dout.sum(axis=0, out=self.grads["b"])
            return None
        # dx = dout W^T needs neither dW nor db: inside threads.host_threads the two
        # products run side by side on the host, each giving what it gives alone
        return beside(param_grads, lambda: dout @ self.params["W"].T, x.size * dout.shape[1], dout)


class ReLU:
    """Rectified linear unit ``out = max(x, 0)``; no parameters."""

    def __init__(self) -> None:
        self.params: dict[str, Array] = {}
        self.grads: dict[str, Array] = {}
        self.cache: Array | None = None

    def forward(self, x: Array, train: bool = False) -> Array:
        """``out = max(x, 0)``, element-wise; stores ``out`` for :meth:`backward`.

        Parameters
        ----------
        x : Array of shape (N, d)
            The batch.
        train : bool, default False
            Unused (ReLU is the same in training and inference).

        Returns
        -------
        out : Array of shape (N, d)
            The rectified batch.
        """
        xp = get_array_module(x)
        out = xp.maximum(x, 0)
        self.cache = out
        return out

    def backward(self, dout: Array, need_dx: bool = True) -> Array:
        """dx = dout where the output was positive, else 0 (the subgradient at 0 is 0).

        Parameters
        ----------
        dout : Array of shape (N, d)
            Gradient of the loss with respect to the output.
        need_dx : bool, default True
            Part of the common layer interface; ReLU always returns ``dx``.

        Returns
        -------
        dx : Array of shape (N, d)
            The gradient with respect to the layer's input.
        """
        if self.cache is None:
            raise RuntimeError("ReLU.backward needs a forward pass first")
        return dout * (self.cache > 0)


class Dropout:
    """Inverted dropout: zero each unit with probability ``p_drop``, scale the rest by 1/(1-p_drop).

    At inference (``train=False``) it is the identity.  The mask comes from a random
    generator on the data's device, created from ``random_state`` at the first call,
    and ``backward`` reuses it.  Set ``freeze_mask = True`` to reuse the last mask in
    later forward passes too (gradient checks need a fixed mask).

    Parameters
    ----------
    p_drop : float in [0, 1)
        Probability of zeroing a unit.
    random_state : None, int or numpy Generator, default None
        Seeds the mask generator (drawn once, at the first training forward pass).

    Raises
    ------
    ValueError
        If ``p_drop`` is outside [0, 1).
    """

    def __init__(self, p_drop: float, random_state: Seed = None) -> None:
        p_drop = float(p_drop)
        if not 0.0 <= p_drop < 1.0:
            raise ValueError(f"p_drop must be in [0, 1), got {p_drop}")
        self.p_drop = p_drop
        self.params: dict[str, Array] = {}
        self.grads: dict[str, Array] = {}
        self.cache: Array | None = None
        self.random_state = random_state
        self.rng: Any = None
        self.freeze_mask = False

    def forward(self, x: Array, train: bool = False) -> Array:
        """``x * mask / (1 - p_drop)`` in training, ``x`` itself at inference.

        Parameters
        ----------
        x : Array of shape (N, d)
            The batch.
        train : bool, default False
            Drop units only when True; the scaled mask is kept in ``cache``.

        Returns
        -------
        out : Array of shape (N, d)
            The batch with the dropped units zeroed and the others scaled.
        """
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

    def backward(self, dout: Array, need_dx: bool = True) -> Array:
        """dx = dout times the scaled mask of the last forward pass (dout itself at inference).

        Parameters
        ----------
        dout : Array of shape (N, d)
            Gradient of the loss with respect to the output.
        need_dx : bool, default True
            Part of the common layer interface; Dropout always returns ``dx``.

        Returns
        -------
        dx : Array of shape (N, d)
            The gradient with respect to the layer's input.
        """
        return dout if self.cache is None else dout * self.cache


class Sequential:
    """A chain of layers; ``params`` and ``grads`` are flattened as ``"<index>.<key>"``.

    Parameters
    ----------
    *layers : Dense, ReLU, Dropout or Sequential
        The layers, input side first; anything with ``params``, ``grads``,
        ``forward(x, train)`` and ``backward(dout, need_dx)``.

    Examples
    --------
    >>> import numpy as np
    >>> from dec_np.layers import Dense, ReLU, Sequential
    >>> net = Sequential(Dense(4, 3, random_state=0), ReLU(), Dense(3, 2, random_state=1))
    >>> sorted(net.params)
    ['0.W', '0.b', '2.W', '2.b']
    >>> x = np.ones((5, 4), dtype=np.float32)
    >>> out = net.forward(x, train=True)
    >>> out.shape
    (5, 2)
    >>> dx = net.backward(np.ones_like(out))
    >>> dx.shape, net.grads["0.W"].shape
    ((5, 4), (4, 3))
    """

    def __init__(self, *layers: Any) -> None:
        self.layers = list(layers)

    @property
    def params(self) -> dict[str, Array]:
        """Every layer's parameters, keyed ``"<layer index>.<name>"`` (the arrays themselves)."""
        return {f"{i}.{k}": v for i, l in enumerate(self.layers) for k, v in l.params.items()}

    @property
    def grads(self) -> dict[str, Array]:
        """Every layer's gradients, with the keys of :attr:`params`."""
        return {f"{i}.{k}": v for i, l in enumerate(self.layers) for k, v in l.grads.items()}

    def forward(self, x: Array, train: bool = False) -> Array:
        """Pass ``x`` through every layer in order.

        Parameters
        ----------
        x : Array of shape (N, d_in)
            The batch.
        train : bool, default False
            Passed to every layer (Dropout drops units only when True).

        Returns
        -------
        out : Array of shape (N, d_out)
            The last layer's output.
        """
        for layer in self.layers:
            x = layer.forward(x, train)
        return x

    def backward(self, dout: Array, need_dx: bool = True) -> Array | None:
        """Back-propagate ``dout`` through every layer; returns dx (None if not ``need_dx``).

        Without ``need_dx`` the pass stops at the first layer that has parameters: the
        layers below it (a leading Dropout, say) need no gradient, and that layer skips
        the product for its dx.

        Parameters
        ----------
        dout : Array of shape (N, d_out)
            Gradient of the loss with respect to the output of the last forward pass.
        need_dx : bool, default True
            Whether the gradient with respect to the input is wanted.

        Returns
        -------
        dx : Array of shape (N, d_in), or None
            Every layer's ``grads`` are overwritten.
        """
        first = 0 if need_dx else next((i for i, l in enumerate(self.layers) if l.params), 0)
        for i in range(len(self.layers) - 1, first - 1, -1):
            dout = self.layers[i].backward(dout, need_dx=need_dx or i > first)
        return dout if need_dx else None


def pack_params(layers: list[Any]) -> None:
    """Lay the parameters of ``layers`` end to end in one buffer, and their gradients in
    another, in the order given; the layers keep views of them.

    Values do not change.  An optimiser given these arrays in the same order then updates
    them all in one pass of each operation (:meth:`dec_np.optim.SGD.step`): the same
    numbers, and on a GPU a few kernel launches a step instead of a few per array.

    Parameters
    ----------
    layers : list of Dense or other layers with ``params`` and ``grads`` dicts
        Their arrays must share one dtype and device; layers without parameters are
        skipped.

    Examples
    --------
    >>> import numpy as np
    >>> from dec_np.backend import joined
    >>> net = [Dense(4, 3, random_state=0), Dense(3, 2, random_state=1)]
    >>> W0 = net[0].params["W"].copy()
    >>> pack_params(net)
    >>> bool((net[0].params["W"] == W0).all())
    True
    >>> joined([a for l in net for a in l.params.values()]).shape  # 12 + 3 + 6 + 2
    (23,)
    """
    for attr in ("params", "grads"):
        slots = [(getattr(l, attr), k) for l in layers for k in getattr(l, attr)]
        for (d, k), view in zip(slots, end_to_end([d[k] for d, k in slots])):
            d[k] = view

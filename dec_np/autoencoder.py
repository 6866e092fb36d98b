"""The paper's stacked denoising autoencoder (SAE): greedy layer-wise pretraining, then fine-tuning.

Each depth i is a denoising autoencoder h_i -> h_{i+1} -> h_i trained on the clean
output of the depths before it; its encoder and decoder layers are then stacked into
d-500-500-2000-10-2000-500-500-d and fine-tuned end to end without dropout.  After
that only the encoder f_theta: x -> z is used by DEC (Sec. 3.2 of the paper).
"""
from __future__ import annotations

import copy
import math
import numbers
import os
import warnings
from typing import Any, Callable, Literal, Sequence

import numpy as np
from numpy.random import Generator
from numpy.typing import ArrayLike, DTypeLike

from .backend import DEFAULT_DTYPE, asnumpy, get_backend, seed_sequence, to_device
from .base import format_params
from .layers import Dense, Dropout, ReLU, Sequential, pack_params
from .losses import mse
from .optim import SGD, Adam
from .threads import host_threads, split
from .utils import BatchStream, Progress, check_array, check_bool, check_count, check_real

#: SGD's learning rate when none is given, per element of the loss: the paper's 0.1
DEFAULT_SGD_LR = 0.1
#: Adam's learning rate when none is given (that of the "adam" schedule)
DEFAULT_ADAM_LR = 1e-3
#: how many times a stage whose loss diverges is restarted at a tenth of its learning rate
LR_BACKOFFS = 2


class StackedAutoencoder:
    """Stacked denoising autoencoder ``dims[0] - ... - dims[-1] - ... - dims[0]``.

    Parameters
    ----------
    dims : sequence of int, default (784, 500, 500, 2000, 10)
        Widths from the input to the embedding z.
    p_drop : float, default 0.2
        Dropout rate of the denoising autoencoders during layer-wise pretraining (the
        raw input and the embedding are never dropped, as in the original code).
    init_std : float or "glorot", default 0.01
        Initial weights ~ N(0, init_std^2) (the paper), or Glorot-uniform.
    loss_reduction : {"batch", "mean"}, default "batch"
        Reduction of the reconstruction loss (:func:`dec_np.losses.mse`): "batch" sums
        over features and averages over rows; "mean" also averages over features, as the
        paper's code does (its lr 0.1 is in those units).  The default learning rates of
        :meth:`pretrain_layerwise` and :meth:`finetune` take the reduction into account.
    dtype : numpy dtype, default float32
        Of the weights and of the data inside the model (float64 for gradient checks).
    backend : "numpy", "cupy" or None, default None
        Where the weights live; None means ``$DEC_NP_BACKEND``, else numpy.
    random_state : None, int or numpy Generator, default None
        Seeds the initial weights, the batch order and the dropout masks.

    Attributes
    ----------
    encoders, decoders : list of Dense
        ``encoders[i]`` maps width dims[i] to dims[i+1]; ``decoders[i]`` maps back.
    history_ : dict
        Mean loss per epoch of each training stage ("layer0", ..., "finetune").

    Notes
    -----
    A fitted model pickles (``pickle``, ``joblib.dump``) with its weights as host NumPy
    arrays and the name of its backend; it is restored on ``$DEC_NP_BACKEND`` if that is
    set, else on the backend it was pickled from, and a CuPy model loads on NumPy where
    CuPy cannot be used.  It has no ``get_params``: ``sklearn.base.clone`` of a
    :class:`dec_np.DEC` copies a pretrained autoencoder given to it instead of rebuilding
    it untrained.

    Examples
    --------
    >>> from dec_np import StackedAutoencoder
    >>> from dec_np.datasets import load_digits
    >>> X, _ = load_digits()          # 1,797 images of 8 x 8 pixels in [0, 1]
    >>> sae = StackedAutoencoder((64, 32, 10), random_state=0)
    >>> sae
    StackedAutoencoder(dims=(64, 32, 10))
    >>> start = sae.reconstruction_loss(X)
    >>> layerwise = sae.pretrain_layerwise(X, epochs=2)
    >>> losses = sae.finetune(X, epochs=5)
    >>> sae.encode(X).shape
    (1797, 10)
    >>> sae.reconstruction_loss(X) < 0.7 * start
    True
    """

    def __init__(self, dims: Sequence[int] = (784, 500, 500, 2000, 10), p_drop: float = 0.2,
                 init_std: float | Literal["glorot"] = 0.01,
                 loss_reduction: Literal["batch", "mean"] = "batch",
                 dtype: DTypeLike = DEFAULT_DTYPE, backend: str | None = None,
                 random_state: int | Generator | None = None) -> None:
        if isinstance(dims, (str, bytes)) or not hasattr(dims, "__len__") or len(dims) < 2 \
                or not all(isinstance(d, numbers.Integral) and not isinstance(d, (bool, np.bool_))
                           and d >= 1 for d in dims):
            raise ValueError(f"dims must be a sequence of at least two positive integers "
                             f"(widths are never rounded), got {dims!r}")
        dims = tuple(int(d) for d in dims)
        p_drop = check_real(p_drop, "p_drop", 0.0, 1.0, closed="left")
        if init_std != "glorot":
            init_std = check_real(init_std, "init_std (a standard deviation, or 'glorot')")
        if loss_reduction not in ("batch", "mean"):
            raise ValueError(f"loss_reduction must be 'batch' or 'mean', got {loss_reduction!r}")
        if np.dtype(dtype).kind != "f":
            raise TypeError(f"dtype must be a floating-point type (float32 for training, float64 "
                            f"for checks), got {np.dtype(dtype)}")
        self.dims, self.p_drop, self.init_std = dims, p_drop, init_std
        self.loss_reduction = loss_reduction
        self.dtype = np.dtype(dtype)
        self.backend = backend
        self.xp = get_backend(backend)
        self.rng = seed_sequence(random_state)
        self.encoders = [Dense(dims[i], dims[i + 1], init_std, self.dtype, self.xp, self.rng)
                         for i in range(len(dims) - 1)]
        self.decoders = [Dense(dims[i + 1], dims[i], init_std, self.dtype, self.xp, self.rng)
                         for i in range(len(dims) - 1)]
        pack_params(self.encoders + self.decoders)  # in the order of `params`
        self.history_: dict[str, list[float]] = {}

    def __repr__(self) -> str:
        shown = {"dims": self.dims, "p_drop": self.p_drop, "init_std": self.init_std,
                 "loss_reduction": self.loss_reduction, "dtype": self.dtype.name,
                 "backend": self.backend}
        defaults = {"p_drop": 0.2, "init_std": 0.01, "loss_reduction": "batch",
                    "dtype": np.dtype(DEFAULT_DTYPE).name, "backend": None}
        return format_params(self, shown, defaults)

    def __deepcopy__(self, memo):
        """Copy the weights and state; share the array module (a module cannot be copied)."""
        memo[id(self.xp)] = self.xp
        new = memo[id(self)] = self.__class__.__new__(self.__class__)
        new.__dict__.update(copy.deepcopy(self.__dict__, memo))
        pack_params(new.encoders + new.decoders)  # the copies are separate arrays
        return new

    # -- pickling -------------------------------------------------------------------
    def __getstate__(self):
        """What ``pickle`` and ``joblib`` store: host NumPy weights and the backend's name.

        The array module itself is not stored (a module cannot be pickled), nor are the
        gradients and the layers' caches (the last batch), which training rebuilds.
        """
        state = self.__dict__.copy()
        state["xp"] = "numpy" if self.xp is np else "cupy"
        state["encoders"] = [_host_weights(l) for l in self.encoders]
        state["decoders"] = [_host_weights(l) for l in self.decoders]
        return state

    def __setstate__(self, state):
        """Restore on ``$DEC_NP_BACKEND`` if set, else on the backend that was pickled; a
        CuPy model falls back to NumPy, with a warning, where CuPy cannot be used."""
        state = dict(state)
        saved = state.pop("xp")
        name = os.environ.get("DEC_NP_BACKEND", "").strip().lower() or saved
        try:
            xp = get_backend(name)
        except RuntimeError as exc:
            warnings.warn(f"this StackedAutoencoder was pickled on {saved}, which cannot be "
                          f"used here ({exc}); it is loaded on numpy", RuntimeWarning,
                          stacklevel=2)
            xp = np
        self.__dict__.update(state, xp=xp)
        for layer in self.encoders + self.decoders:
            layer.params = {k: to_device(v, xp, self.dtype) for k, v in layer.params.items()}
            layer.grads = {k: xp.zeros_like(v) for k, v in layer.params.items()}
            layer.cache = None
        pack_params(self.encoders + self.decoders)

    # -- the networks ---------------------------------------------------------------
    @property
    def n_layers(self) -> int:
        """Number of depths: ``len(dims) - 1``."""
        return len(self.encoders)

    def encoder(self) -> Sequential:
        """Sequential d -> ... -> z: ReLU after every layer but the last (z is linear).

        Returns
        -------
        Sequential
            The encoder f_theta, sharing its Dense layers (live weights) with the model.
        """
        layers: list[Any] = []
        for i, enc in enumerate(self.encoders):
            layers += [enc] if i == self.n_layers - 1 else [enc, ReLU()]
        return Sequential(*layers)

    def decoder(self) -> Sequential:
        """Sequential z -> ... -> x_hat: ReLU after every layer but the last (x_hat is linear).

        Returns
        -------
        Sequential
            The decoder g, sharing its Dense layers (live weights) with the model.
        """
        layers: list[Any] = []
        for i in reversed(range(self.n_layers)):
            layers += [self.decoders[i]] if i == 0 else [self.decoders[i], ReLU()]
        return Sequential(*layers)

    def layer_pair(self, i: int) -> Sequential:
        """The denoising autoencoder of depth i: h_i -> h_{i+1} -> h_i, with dropout.

        Dropout on the input unless i == 0 (raw pixels), on the hidden code unless it
        is the embedding z; ReLU on the code unless it is z, on the output unless i == 0.

        Parameters
        ----------
        i : int
            The depth, 0 (the input) to ``n_layers - 1`` (the embedding).

        Returns
        -------
        Sequential
            Dropout (unless i == 0), ``encoders[i]``, ReLU and dropout (unless the code is
            z), ``decoders[i]``, ReLU (unless i == 0); its Dense layers are the model's.
        """
        last = i == self.n_layers - 1
        seed = lambda: int(self.rng.integers(2**31 - 1))
        layers: list[Any] = [] if i == 0 else [Dropout(self.p_drop, seed())]
        layers.append(self.encoders[i])
        if not last:
            layers += [ReLU(), Dropout(self.p_drop, seed())]
        layers.append(self.decoders[i])
        if i > 0:
            layers.append(ReLU())
        return Sequential(*layers)

    def _named(self, attr):
        out = {}
        for side, layers in (("enc", self.encoders), ("dec", self.decoders)):
            for i, layer in enumerate(layers):
                out.update({f"{side}{i}.{k}": v for k, v in getattr(layer, attr).items()})
        return out

    @property
    def params(self) -> dict:
        """Every parameter array by name ("enc0.W", "enc0.b", ..., "dec0.W", ...); live references."""
        return self._named("params")

    @property
    def grads(self) -> dict:
        """Gradients under the keys of :attr:`params` (filled by the last backward pass)."""
        return self._named("grads")

    # -- inference ------------------------------------------------------------------
    def _to_model(self, X, name="X"):
        X = check_array(X, self.dims[0] if name == "X" else self.dims[-1], name)
        out = to_device(X, self.xp, self.dtype)
        if X.dtype.kind == "f" and X.dtype.itemsize > self.dtype.itemsize:
            # a float64 X finite as given may overflow the model's float32: say so
            if not bool(self.xp.isfinite(out).all()):
                raise ValueError(f"{name} overflows {self.dtype}, the model's dtype: its values "
                                 f"reach {float(abs(X).max()):.3g} (largest {self.dtype} "
                                 f"{float(self.xp.finfo(self.dtype).max):.3g}); rescale {name}")
        return out

    def _apply(self, net, X, batch_size=4096):
        """net.forward over X in row chunks, written into one preallocated output."""
        first = net.forward(X[:batch_size])
        if first.shape[0] == X.shape[0]:
            return first
        out = self.xp.empty((X.shape[0],) + first.shape[1:], dtype=first.dtype)
        out[:batch_size] = first

        def blocks(starts):  # independent row blocks: side by side under threads.host_threads
            for s in starts:
                out[s:s + batch_size] = net.forward(X[s:s + batch_size])

        split(blocks, range(batch_size, X.shape[0], batch_size), X.size * first.shape[1], X)
        return out

    def encode(self, X: ArrayLike, batch_size: int = 4096) -> Any:
        """z = f_theta(X), computed ``batch_size`` rows at a time.

        Parameters
        ----------
        X : array-like of shape (n_samples, dims[0])
            The data, scaled as the model was trained (NumPy or CuPy).
        batch_size : int, default 4096
            Rows per forward pass (bounds the memory of the hidden layers).

        Returns
        -------
        z : array of shape (n_samples, dims[-1]) on the model's device
            The embedding of each row.
        """
        batch_size = check_count(batch_size, "batch_size")
        return self._apply(self.encoder(), self._to_model(X), batch_size)

    def decode(self, Z: ArrayLike, batch_size: int = 4096) -> Any:
        """x_hat = g(Z), computed ``batch_size`` rows at a time.

        Parameters
        ----------
        Z : array-like of shape (n_samples, dims[-1])
            Embeddings, e.g. from :meth:`encode`.
        batch_size : int, default 4096
            Rows per forward pass.

        Returns
        -------
        x_hat : array of shape (n_samples, dims[0])
            On the model's device, in its dtype.
        """
        batch_size = check_count(batch_size, "batch_size")
        return self._apply(self.decoder(), self._to_model(Z, "Z"), batch_size)

    def reconstruct(self, X: ArrayLike, batch_size: int = 4096) -> Any:
        """decode(encode(X)) without dropout.

        Parameters
        ----------
        X : array-like of shape (n_samples, dims[0])
            The data, scaled as the model was trained.
        batch_size : int, default 4096
            Rows per forward pass.

        Returns
        -------
        x_hat : array of shape (n_samples, dims[0])
            On the model's device, in its dtype.
        """
        batch_size = check_count(batch_size, "batch_size")
        net = Sequential(*self.encoder().layers, *self.decoder().layers)
        return self._apply(net, self._to_model(X), batch_size)

    def reconstruction_loss(self, X: ArrayLike, batch_size: int = 4096) -> float:
        """The loss of :func:`dec_np.losses.mse` over all of X (``loss_reduction``).

        Parameters
        ----------
        X : array-like of shape (n_samples, dims[0])
            The data, scaled as the model was trained.
        batch_size : int, default 4096
            Rows per forward pass.

        Returns
        -------
        float
            Half the squared reconstruction error, averaged as ``loss_reduction`` says.
        """
        batch_size = check_count(batch_size, "batch_size")
        X = self._to_model(X)
        return float(mse(self.reconstruct(X, batch_size), X, self.loss_reduction)[0])

    # -- training -------------------------------------------------------------------
    def pretrain_layerwise(self, X: ArrayLike, epochs: int | None = None,
                           iterations: int | None = None, batch_size: int = 256,
                           lr: float | Sequence[float] | None = None, momentum: float = 0.9,
                           lr_step: int | None = None, gamma: float = 0.1,
                           weight_decay: float = 0.0, verbose: bool = False,
                           optimizer: str | None = None, warmup: int = 0,
                           nesterov: bool = False, max_epochs: float | None = None,
                           n_jobs: int | str | None = None) -> dict[str, list[float]]:
        """Greedy layer-wise denoising pretraining (Sec. 3.2): depth by depth, bottom up.

        Depth i (the pair of :meth:`layer_pair`) is trained on the clean (no dropout)
        output of depths 0..i-1 with its own optimiser.  The clean input of each depth is
        computed once for all rows, except after a layer that widens (500 -> 2000): then
        the narrower input is kept and each batch is encoded on the fly, so no N x 2000
        array is held (about 560 MB for MNIST-70k).

        Parameters
        ----------
        X : array-like of shape (n_samples, dims[0])
            The training data, already scaled (see :mod:`dec_np.scaling`).
        epochs, iterations : int, optional
            Length of each depth's training, in passes over X or in mini-batch steps; give
            exactly one (the paper: 50,000 iterations).
        batch_size : int, default 256
            Rows per mini-batch.
        lr : float, sequence of float or None, default None
            Learning rate, one value or one per depth.  None: :data:`DEFAULT_ADAM_LR`
            (1e-3) for Adam; for SGD the paper's 0.1 per element of the loss, i.e. 0.1 with
            ``loss_reduction="mean"`` and 0.1 / d_i with "batch" (whose loss is d_i times
            larger; d_i the width reconstructed), the same steps for either reduction.
        optimizer : {"sgd", "adam"} or None, default None
            SGD with momentum (:class:`dec_np.optim.SGD`, the paper's) or
            :class:`dec_np.optim.Adam`.  None: SGD when ``lr`` is given, else Adam at
            1e-3, whose steps do not grow with the scale of the loss or of the data, so
            that the defaults train on inputs in [0, 1] and on standardised ones alike.
        momentum : float, default 0.9
            Momentum of SGD (unused by Adam).
        lr_step : int or None, default None
            Divide the learning rate by ``1/gamma`` every ``lr_step`` steps (the paper:
            20,000 with gamma 0.1); None keeps it constant.
        gamma : float, default 0.1
            The factor of each step of ``lr_step``.
        weight_decay : float, default 0.0
            L2 penalty of SGD.
        verbose : bool, default False
            Print progress lines to stderr.
        warmup : int, default 0
            Ramp each depth's learning rate up over its first ``warmup`` steps.
        nesterov : bool, default False
            Nesterov momentum for SGD.
        max_epochs : float or None, default None
            With ``iterations``: train each depth for at most this many passes over X,
            ``min(iterations, ceil(max_epochs * ceil(n / batch_size)))`` steps
            (:func:`stage_steps`), so that a count of steps chosen for a large data set does
            not make many more passes over a small one.  None: ``iterations`` exactly.
        n_jobs : int, None or "blas", default None
            An int: that many host threads, BLAS on one each
            (:func:`dec_np.threads.host_threads`), the same numbers to the bit for every int.
            None: the enclosing block's setting, else BLAS's own threads, as "blas" (numbers
            that depend on BLAS's thread count).

        Returns
        -------
        dict
            "layer<i>" -> list of mean losses, one per epoch.

        Raises
        ------
        FloatingPointError
            If the loss becomes NaN or inf; the message names ``lr``.
        """
        if lr is None or np.isscalar(lr):
            lrs = [lr] * self.n_layers
        else:
            lrs = list(lr)  # type: ignore[arg-type]
        if len(lrs) != self.n_layers:
            raise ValueError(f"lr needs one value per depth ({self.n_layers}), got {len(lrs)}")
        for v in lrs:
            check_real(v, "lr", none=True)
        check_real(max_epochs, "max_epochs", none=True)
        _check_training(epochs, iterations, batch_size, momentum, lr_step, gamma, weight_decay,
                        verbose, optimizer, warmup, nesterov)
        with host_threads(n_jobs):  # the enclosing block's threads, if any
            H = self._to_model(X)
            if max_epochs is not None:
                if iterations is None or epochs is not None:
                    raise ValueError("max_epochs bounds a count of iterations: give iterations")
                iterations = stage_steps(H.shape[0], iterations, batch_size,
                                         max_epochs=max_epochs)
            prep = None
            for i in range(self.n_layers):
                net = self.layer_pair(i)
                named = {f"enc{i}": self.encoders[i], f"dec{i}": self.decoders[i]}
                self.history_[f"layer{i}"] = self._train(
                    net, named, H, epochs, iterations, batch_size, lrs[i], momentum, lr_step, gamma,
                    weight_decay, verbose, f"layer {i}", optimizer, prep=prep, warmup=warmup,
                    nesterov=nesterov)
                if i < self.n_layers - 1:
                    if prep is not None:  # H was depth i's input one layer down: bring it up
                        H = self._apply(prep, H)
                    below = Sequential(self.encoders[i], ReLU())
                    if self.dims[i + 1] > self.dims[i]:
                        # a widening layer (500 -> 2000): keep its narrower input and encode each
                        # batch on the fly rather than hold N x 2000 floats (memory over FLOPs)
                        prep = below
                    else:
                        H, prep = self._apply(below, H), None
            return {k: v for k, v in self.history_.items() if k.startswith("layer")}

    def finetune(self, X: ArrayLike, epochs: int | None = None, iterations: int | None = None,
                 batch_size: int = 256, lr: float | None = None, momentum: float = 0.9,
                 lr_step: int | None = None, gamma: float = 0.1, weight_decay: float = 0.0,
                 verbose: bool = False, optimizer: str | None = None,
                 callback: Callable[[int, float], None] | None = None, warmup: int = 0,
                 nesterov: bool = False,
                 augment: Callable[[Any, Generator], Any] | None = None,
                 dropout: float = 0.0, min_epochs: float | None = None,
                 max_epochs: float | None = None, lr_epochs: float | None = None,
                 input_dropout: float = 0.0,
                 n_jobs: int | str | None = None) -> list[float]:
        """Fine-tune the whole stack end to end on the reconstruction loss.

        Parameters
        ----------
        X : array-like of shape (n_samples, dims[0])
            The training data, already scaled.
        epochs, iterations : int, optional
            Length of training, in passes over X or in mini-batch steps; give exactly one
            (the paper: 100,000 iterations).
        batch_size, momentum, lr_step, gamma, weight_decay, verbose, optimizer, warmup, nesterov
            As in :meth:`pretrain_layerwise`.
        lr : float or None, default None
            Learning rate; None as in :meth:`pretrain_layerwise` (d = dims[0]).
        callback : callable or None, default None
            ``callback(epoch, loss)`` after every epoch (1-based) with that epoch's mean
            loss, e.g. to monitor the embedding; it must not change the weights.
        augment : callable or None, default None
            ``augment(xb, rng)`` returns a transformed copy of each mini-batch ``xb`` (e.g.
            :func:`dec_np.augment.shifter`), drawing from the model's generator ``rng``; the
            stack then learns to reconstruct the transformed batch from itself.
        dropout : float in [0, 1), default 0.0
            Inverted dropout after every hidden ReLU of the encoder and the decoder (none
            on the input, on z or on the reconstruction) while training; 0, the paper's
            fine-tuning, trains without it.  Encoding never drops units.
        input_dropout : float in [0, 1), default 0.0
            Inverted dropout on the input while training, the stack learning to reconstruct
            the clean batch from the corrupted one: a denoising autoencoder end to end, for
            rows that cannot be shifted as images are.  0, the paper's fine-tuning, feeds the
            rows as they are.
        min_epochs : float or None, default None
            With ``iterations``: train for at least this many passes over X, i.e.
            ``max(iterations, ceil(min_epochs * ceil(n / batch_size)))`` steps, so that a
            count of steps chosen on a small data set still covers a large one (the
            default schedule: 3,000 steps, at least 44 epochs).  None: ``iterations``
            exactly.
        max_epochs : float or None, default None
            With ``iterations``: train for at most this many passes over X
            (:func:`stage_steps`).  None: no upper bound.
        lr_epochs : float or None, default None
            Cap the product of the learning rate and the passes over X: a stage of E epochs
            (``steps / ceil(n / batch_size)``, after ``min_epochs``) runs at
            ``lr * min(1, lr_epochs / E)`` (:func:`capped_lr`), so that a count of steps
            that makes many passes over a small data set moves the weights no further than
            ``lr_epochs`` passes would.  The default schedule: 100, so its 3,000 steps at
            batch 256 (77 epochs on 10,000 rows) are capped only below 7,425 rows; the
            previous default's 8,000 ran at lr 0.0005 on 10,000 rows (200 epochs) and at
            0.001 from 20,225 rows on.  None: ``lr`` as given.
        n_jobs : int, None or "blas", default None
            As in :meth:`pretrain_layerwise`.

        Returns
        -------
        list of float
            The mean loss of every epoch (also ``history_["finetune"]``).

        Raises
        ------
        FloatingPointError
            If the loss becomes NaN or inf; the message names ``lr``.
        """
        check_real(lr, "lr", none=True)
        _check_training(epochs, iterations, batch_size, momentum, lr_step, gamma, weight_decay,
                        verbose, optimizer, warmup, nesterov)
        for name, f in (("callback", callback), ("augment", augment)):
            if f is not None and not callable(f):
                raise ValueError(f"{name} must be a callable or None, got {f!r}")
        dropout = check_real(dropout, "dropout", 0.0, 1.0, closed="left")
        input_dropout = check_real(input_dropout, "input_dropout", 0.0, 1.0, closed="left")
        check_real(min_epochs, "min_epochs", none=True)
        check_real(max_epochs, "max_epochs", none=True)
        check_real(lr_epochs, "lr_epochs", none=True)
        with host_threads(n_jobs):  # the enclosing block's threads, if any
            H = self._to_model(X)
            if min_epochs is not None or max_epochs is not None:
                if iterations is None or epochs is not None:
                    raise ValueError("min_epochs and max_epochs bound a count of iterations: "
                                     "give iterations")
                iterations = stage_steps(H.shape[0], iterations, batch_size, min_epochs,
                                         max_epochs)
            if lr_epochs is not None:
                per_epoch = -(-H.shape[0] // int(batch_size))
                steps = int(iterations) if iterations is not None else int(epochs or 0) * per_epoch
                passes = steps / per_epoch
                optimizer, lr = self._defaults(optimizer, lr, self.dims[0])
                lr = capped_lr(lr, passes, lr_epochs)
                if verbose:
                    print(f"[finetune] {passes:g} epochs: lr {lr:g} (lr_epochs={lr_epochs:g})")
            layers: list[Any] = []
            if input_dropout > 0:  # the target stays the clean batch: mse(net(xb), xb)
                layers.append(Dropout(input_dropout, int(self.rng.integers(2**31 - 1))))
            for layer in (*self.encoder().layers, *self.decoder().layers):
                layers.append(layer)
                if dropout > 0 and isinstance(layer, ReLU):
                    layers.append(Dropout(dropout, int(self.rng.integers(2**31 - 1))))
            net = Sequential(*layers)
            named = {f"enc{i}": e for i, e in enumerate(self.encoders)}
            named.update({f"dec{i}": d for i, d in enumerate(self.decoders)})
            self.history_["finetune"] = self._train(
                net, named, H, epochs, iterations, batch_size, lr, momentum, lr_step, gamma,
                weight_decay, verbose, "finetune", optimizer, callback, warmup=warmup,
                nesterov=nesterov, augment=augment)
            return self.history_["finetune"]

    def _defaults(self, optimizer, lr, width):
        """The optimiser and learning rate that None stands for (see :meth:`pretrain_layerwise`)."""
        if optimizer is None:
            optimizer = "sgd" if lr is not None else "adam"
        if lr is None:
            lr = DEFAULT_ADAM_LR if optimizer == "adam" else \
                DEFAULT_SGD_LR / (width if self.loss_reduction == "batch" else 1)
        return optimizer, float(lr)

    def _train(self, net, named, X, epochs, iterations, batch_size, lr, momentum, lr_step,
               gamma, weight_decay, verbose, label, optimizer=None, callback=None, prep=None,
               warmup=0, nesterov=False, augment=None):
        n = X.shape[0]
        per_epoch = -(-n // batch_size)
        if (epochs is None) == (iterations is None):
            raise ValueError("give exactly one of epochs or iterations")
        total = int(iterations) if iterations is not None else int(epochs) * per_epoch
        if total < 1 or batch_size < 1:
            raise ValueError("epochs/iterations and batch_size must be positive")
        params, grads = ({f"{name}.{k}": v for name, l in named.items()
                          for k, v in getattr(l, attr).items()} for attr in ("params", "grads"))
        width = next(iter(named.values())).params["W"].shape[0]  # the width reconstructed
        optimizer, lr = self._defaults(optimizer, lr, width)
        if optimizer not in ("sgd", "adam"):
            raise ValueError(f"optimizer must be 'sgd' or 'adam', got {optimizer!r}")
        method = "finetune" if label == "finetune" else "pretrain_layerwise"
        start, given = {k: v.copy() for k, v in params.items()}, lr
        for attempt in range(LR_BACKOFFS + 1):
            opt = (SGD(lr, momentum, weight_decay, lr_step, gamma, warmup, nesterov)
                   if optimizer == "sgd" else Adam(lr, step_size=lr_step, gamma=gamma, warmup=warmup))
            try:
                # NumPy's overflow warnings stay off: a divergence is reported once, below
                with np.errstate(over="ignore", invalid="ignore"):
                    return _steps(self, net, params, grads, opt, X, total, per_epoch,
                                  batch_size, label, verbose, callback, prep, augment)
            except FloatingPointError as exc:
                if attempt == LR_BACKOFFS:
                    tried = ", ".join(f"{given * 0.1 ** a:g}" for a in range(1, attempt + 1))
                    raise FloatingPointError(
                        f"{label} diverged at lr {given:g} and again when restarted at {tried} "
                        f"({exc}); lower {method}'s lr (now {given:g}) or check the input "
                        "scaling") from None
                # a diverged stage starts again from its own first weights at a tenth of
                # the rate, and says so; a stage that does not diverge never comes here
                for k, v in params.items():
                    v[...] = start[k]
                warnings.warn(f"{exc}; retrying {label} from its initial weights at lr "
                              f"{lr * 0.1:g}", RuntimeWarning, stacklevel=4)
                lr *= 0.1


def _check_training(epochs, iterations, batch_size, momentum, lr_step, gamma, weight_decay,
                    verbose, optimizer, warmup, nesterov):
    """The settings shared by pretrain_layerwise and finetune, checked before any work."""
    if (epochs is None) == (iterations is None):
        raise ValueError("give exactly one of epochs or iterations")
    check_count(epochs, "epochs", none=True)
    check_count(iterations, "iterations", none=True)
    check_count(batch_size, "batch_size")
    check_real(momentum, "momentum", 0.0, 1.0, closed="left")
    check_count(lr_step, "lr_step", none=True)
    check_real(gamma, "gamma")
    check_real(weight_decay, "weight_decay", closed="left")
    check_bool(verbose, "verbose")
    check_bool(nesterov, "nesterov")
    check_count(warmup, "warmup", low=0)
    if optimizer not in (None, "sgd", "adam"):
        raise ValueError(f"optimizer must be 'sgd', 'adam' or None, got {optimizer!r}")


def steps_with_min_epochs(n: int, iterations: int, batch_size: int, min_epochs: float) -> int:
    """The steps of a stage of ``iterations`` that must cover at least ``min_epochs`` epochs.

    ``max(iterations, ceil(min_epochs * ceil(n / batch_size)))``: an epoch is
    ``ceil(n / batch_size)`` mini-batches, as :meth:`StackedAutoencoder.finetune` counts them.

    Parameters
    ----------
    n : int
        Rows of the training data.
    iterations : int
        The stage's own count of steps.
    batch_size : int
        Rows per mini-batch.
    min_epochs : float
        The passes over the data the stage must make at least, > 0.

    Returns
    -------
    int
        The steps to run.

    Examples
    --------
    >>> steps_with_min_epochs(10000, 8000, 256, 44)   # 44 epochs are 1,760 steps
    8000
    >>> steps_with_min_epochs(70000, 8000, 256, 44)   # 274 steps an epoch
    12056
    """
    if isinstance(min_epochs, bool) or not isinstance(min_epochs, (int, float)) \
            or not min_epochs > 0:
        raise ValueError(f"min_epochs must be a number > 0, got {min_epochs!r}")
    per_epoch = -(-int(n) // int(batch_size))
    return max(int(iterations), math.ceil(min_epochs * per_epoch))


def stage_steps(n: int, iterations: int, batch_size: int, min_epochs: float | None = None,
                max_epochs: float | None = None) -> int:
    """The steps of a stage of ``iterations``, held between ``min_epochs`` and ``max_epochs``.

    An epoch is ``ceil(n / batch_size)`` steps.  The count is ``iterations``, raised to
    ``ceil(min_epochs * epoch)`` (:func:`steps_with_min_epochs`) and then lowered to
    ``ceil(max_epochs * epoch)``; either bound may be None.  The size of the data thereby
    decides how long a stage is on data much smaller or larger than the count was chosen for.

    Parameters
    ----------
    n : int
        Rows of the training data.
    iterations : int
        The stage's own count of steps.
    batch_size : int
        Rows per step.
    min_epochs, max_epochs : float or None, default None
        The least and the most passes over the data; ``max_epochs >= min_epochs``.

    Returns
    -------
    int
        The number of steps.

    Examples
    --------
    >>> stage_steps(10000, 6000, 64, max_epochs=10)   # 157 steps an epoch
    1570
    >>> stage_steps(70000, 6000, 64, max_epochs=10)
    6000
    """
    if max_epochs is not None:
        if isinstance(max_epochs, bool) or not isinstance(max_epochs, (int, float)) \
                or not max_epochs > 0:
            raise ValueError(f"max_epochs must be a number > 0, got {max_epochs!r}")
        if min_epochs is not None and min_epochs > max_epochs:
            raise ValueError(f"min_epochs ({min_epochs}) exceeds max_epochs ({max_epochs})")
    steps = int(iterations)
    if min_epochs is not None:
        steps = steps_with_min_epochs(n, steps, batch_size, min_epochs)
    if max_epochs is not None:
        steps = min(steps, math.ceil(max_epochs * -(-int(n) // int(batch_size))))
    return steps


def capped_lr(lr: float, epochs: float, lr_epochs: float) -> float:
    """The learning rate of a stage of ``epochs`` passes whose lr x epochs is capped.

    ``lr * min(1, lr_epochs / epochs)``: up to ``lr_epochs`` passes the rate is ``lr``; a
    longer stage runs at a rate that keeps ``rate * epochs == lr * lr_epochs``.

    Parameters
    ----------
    lr : float
        The rate of a stage of at most ``lr_epochs`` passes, > 0.
    epochs : float
        The passes over the data the stage makes, > 0.
    lr_epochs : float
        The cap on ``lr * epochs``, in units of ``lr``, > 0.

    Returns
    -------
    float
        The learning rate to use.

    Examples
    --------
    >>> capped_lr(1e-3, 8000 / 40, 100)   # 8,000 steps on 10,000 rows at batch 256: 200 epochs
    0.0005
    >>> capped_lr(1e-3, 12056 / 274, 100)  # 44 epochs of MNIST's 70,000
    0.001
    """
    for name, value in (("lr", lr), ("epochs", epochs), ("lr_epochs", lr_epochs)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"{name} must be a number > 0, got {value!r}")
    return float(lr) * min(1.0, lr_epochs / epochs)


def _host_weights(layer):
    """A copy of a Dense layer for pickling: host copies of its weights, no gradients, no cache."""
    new = copy.copy(layer)
    new.params = {k: asnumpy(v) for k, v in layer.params.items()}
    new.grads, new.cache = {}, None
    return new


def _steps(sae, net, params, grads, opt, X, total, per_epoch, batch_size, label, verbose,
           callback, prep, augment=None):
    """The training loop of one stage of ``sae``; returns the mean loss of every epoch."""
    progress = Progress(label, total, verbose)
    history, running, count = [], 0.0, 0
    stream = BatchStream(X.shape[0], batch_size, sae.rng, sae.xp)
    for it in range(1, total + 1):
        _, idx = next(stream)
        xb = X[idx] if prep is None else prep.forward(X[idx])  # clean input of the pair
        if augment is not None:
            xb = augment(xb, sae.rng)
        out = net.forward(xb, train=True)
        loss, dout = mse(out, xb, sae.loss_reduction)
        net.backward(dout, need_dx=False)
        opt.step(params, grads)
        running = running + loss
        count += 1
        if it == 1:
            first = float(loss)
        if count == per_epoch or it == total:
            mean = float(running) / count
            if not np.isfinite(mean) or mean > 100 * max(first, 1e-30):
                # non-finite, or 100 times the first batch's loss: the steps diverge
                raise FloatingPointError(
                    f"{label}: the loss became {mean:g} at iteration {it} (from {first:g} "
                    f"at the first)")
            history.append(mean)
            running, count = 0.0, 0
            progress(it, mean, force=it == total)
            if callback is not None:
                callback(len(history), mean)
    if not all(bool(sae.xp.isfinite(v).all()) for v in params.values()):
        raise FloatingPointError(f"{label}: the weights became non-finite in the last steps")
    return history

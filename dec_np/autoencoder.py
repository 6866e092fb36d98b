"""The paper's stacked denoising autoencoder (SAE): greedy layer-wise pretraining, then fine-tuning.

Each depth i is a denoising autoencoder h_i -> h_{i+1} -> h_i trained on the clean
output of the depths before it; its encoder and decoder layers are then stacked into
d-500-500-2000-10-2000-500-500-d and fine-tuned end to end without dropout.  After
that only the encoder f_theta: x -> z is used by DEC (Sec. 3.2 of the paper).
"""
from __future__ import annotations

import copy

import numpy as np

from .backend import DEFAULT_DTYPE, get_backend, seed_sequence, to_device
from .layers import Dense, Dropout, ReLU, Sequential
from .losses import mse
from .optim import SGD, Adam
from .utils import BatchStream, Progress, check_array


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
        Reduction of the reconstruction loss (:func:`dec_np.losses.mse`): "mean" also
        averages over features, as the paper's code does, so its lr 0.1 applies.
    dtype : default float32
    backend : "numpy", "cupy" or None (``$DEC_NP_BACKEND``, else numpy)
    random_state : None, int or numpy Generator
        Seeds the initial weights, the batch order and the dropout masks.

    Attributes
    ----------
    encoders, decoders : list of Dense
        ``encoders[i]`` maps width dims[i] to dims[i+1]; ``decoders[i]`` maps back.
    history_ : dict
        Mean loss per epoch of each training stage ("layer0", ..., "finetune").
    """

    def __init__(self, dims=(784, 500, 500, 2000, 10), p_drop=0.2, init_std=0.01,
                 loss_reduction="batch", dtype=DEFAULT_DTYPE, backend=None, random_state=None):
        dims = tuple(int(d) for d in dims)
        if len(dims) < 2 or min(dims) < 1:
            raise ValueError(f"dims needs at least two positive widths, got {dims}")
        if not 0.0 <= float(p_drop) < 1.0:
            raise ValueError(f"p_drop must be in [0, 1), got {p_drop}")
        if loss_reduction not in ("batch", "mean"):
            raise ValueError(f"loss_reduction must be 'batch' or 'mean', got {loss_reduction!r}")
        self.dims, self.p_drop, self.init_std = dims, float(p_drop), init_std
        self.loss_reduction = loss_reduction
        self.dtype = np.dtype(dtype)
        self.backend = backend
        self.xp = get_backend(backend)
        self.rng = seed_sequence(random_state)
        self.encoders = [Dense(dims[i], dims[i + 1], init_std, self.dtype, self.xp, self.rng)
                         for i in range(len(dims) - 1)]
        self.decoders = [Dense(dims[i + 1], dims[i], init_std, self.dtype, self.xp, self.rng)
                         for i in range(len(dims) - 1)]
        self.history_ = {}

    def __deepcopy__(self, memo):
        """Copy the weights and state; share the array module (a module cannot be copied)."""
        memo[id(self.xp)] = self.xp
        new = memo[id(self)] = self.__class__.__new__(self.__class__)
        new.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return new

    # -- the networks ---------------------------------------------------------------
    @property
    def n_layers(self):
        return len(self.encoders)

    def encoder(self):
        """Sequential d -> ... -> z: ReLU after every layer but the last (z is linear)."""
        layers = []
        for i, enc in enumerate(self.encoders):
            layers += [enc] if i == self.n_layers - 1 else [enc, ReLU()]
        return Sequential(*layers)

    def decoder(self):
        """Sequential z -> ... -> x_hat: ReLU after every layer but the last (x_hat is linear)."""
        layers = []
        for i in reversed(range(self.n_layers)):
            layers += [self.decoders[i]] if i == 0 else [self.decoders[i], ReLU()]
        return Sequential(*layers)

    def layer_pair(self, i):
        """The denoising autoencoder of depth i: h_i -> h_{i+1} -> h_i, with dropout.

        Dropout on the input unless i == 0 (raw pixels), on the hidden code unless it
        is the embedding z; ReLU on the code unless it is z, on the output unless i == 0.
        """
        last = i == self.n_layers - 1
        seed = lambda: int(self.rng.integers(2**31 - 1))
        layers = [] if i == 0 else [Dropout(self.p_drop, seed())]
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
    def params(self):
        """Every parameter array by name ("enc0.W", "enc0.b", ..., "dec0.W", ...); live references."""
        return self._named("params")

    @property
    def grads(self):
        """Gradients under the keys of :attr:`params` (filled by the last backward pass)."""
        return self._named("grads")

    # -- inference ------------------------------------------------------------------
    def _to_model(self, X):
        X = check_array(X, self.dims[0])
        return to_device(X, self.xp, self.dtype)

    def _apply(self, net, X, batch_size=4096):
        """net.forward over X in row chunks, written into one preallocated output."""
        first = net.forward(X[:batch_size])
        if first.shape[0] == X.shape[0]:
            return first
        out = self.xp.empty((X.shape[0],) + first.shape[1:], dtype=first.dtype)
        out[:batch_size] = first
        for s in range(batch_size, X.shape[0], batch_size):
            out[s:s + batch_size] = net.forward(X[s:s + batch_size])
        return out

    def encode(self, X, batch_size=4096):
        """z = f_theta(X): array of shape (N, dims[-1]) on the model's device."""
        return self._apply(self.encoder(), self._to_model(X), batch_size)

    def decode(self, Z, batch_size=4096):
        """x_hat = g(Z): array of shape (N, dims[0]) on the model's device."""
        Z = to_device(check_array(Z, self.dims[-1], "Z"), self.xp, self.dtype)
        return self._apply(self.decoder(), Z, batch_size)

    def reconstruct(self, X, batch_size=4096):
        """decode(encode(X)) without dropout."""
        net = Sequential(*self.encoder().layers, *self.decoder().layers)
        return self._apply(net, self._to_model(X), batch_size)

    def reconstruction_loss(self, X, batch_size=4096):
        """The loss of :func:`dec_np.losses.mse` over all of X (``loss_reduction``), as a float."""
        X = self._to_model(X)
        return float(mse(self.reconstruct(X, batch_size), X, self.loss_reduction)[0])

    # -- training -------------------------------------------------------------------
    def pretrain_layerwise(self, X, epochs=None, iterations=None, batch_size=256, lr=0.1,
                           momentum=0.9, lr_step=None, gamma=0.1, weight_decay=0.0, verbose=False,
                           optimizer="sgd", warmup=0, nesterov=False):
        """Greedy layer-wise denoising pretraining (Sec. 3.2): depth by depth, bottom up.

        Depth i is trained on the clean (no dropout) output of depths 0..i-1 for
        ``epochs`` epochs or ``iterations`` mini-batch steps (give one), with its own
        SGD-with-momentum optimiser; ``lr`` (one value, or one per depth) is divided by
        ``1/gamma`` every ``lr_step`` steps (the paper: 50,000 iterations, lr_step 20,000,
        batch 256, and lr 0.1 for a loss averaged over features too, i.e. 0.1 / d_i here).
        ``optimizer="adam"`` uses :class:`dec_np.optim.Adam` instead (``momentum`` unused).
        ``warmup`` ramps each depth's learning rate up over its first steps
        (:class:`dec_np.optim.SGD`); ``nesterov=True`` uses Nesterov momentum.
        The clean input of each depth is computed once for all rows, except after a layer
        that widens (500 -> 2000): then the narrower input is kept and each batch is encoded
        on the fly, so no N x 2000 array is held (about 560 MB for MNIST-70k).

        Returns
        -------
        dict "layer<i>" -> list of mean losses, one per epoch.
        """
        H = self._to_model(X)
        lrs = [float(lr)] * self.n_layers if np.isscalar(lr) else [float(v) for v in lr]
        if len(lrs) != self.n_layers:
            raise ValueError(f"lr needs one value per depth ({self.n_layers}), got {len(lrs)}")
        prep = None
        for i in range(self.n_layers):
            lr = lrs[i]
            net = self.layer_pair(i)
            named = {f"enc{i}": self.encoders[i], f"dec{i}": self.decoders[i]}
            self.history_[f"layer{i}"] = self._train(
                net, named, H, epochs, iterations, batch_size, lr, momentum, lr_step, gamma,
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

    def finetune(self, X, epochs=None, iterations=None, batch_size=256, lr=0.1, momentum=0.9,
                 lr_step=None, gamma=0.1, weight_decay=0.0, verbose=False, optimizer="sgd",
                 callback=None, warmup=0, nesterov=False):
        """Fine-tune the whole stack end to end on the reconstruction loss, without dropout.

        Same keywords as :meth:`pretrain_layerwise` (the paper: 100,000 iterations);
        ``callback(epoch, loss)``, if given, is called after every epoch (1-based) with that
        epoch's mean loss, e.g. to monitor the embedding; it must not change the weights.
        Returns the list of mean losses per epoch.
        """
        H = self._to_model(X)
        net = Sequential(*self.encoder().layers, *self.decoder().layers)
        named = {f"enc{i}": e for i, e in enumerate(self.encoders)}
        named.update({f"dec{i}": d for i, d in enumerate(self.decoders)})
        self.history_["finetune"] = self._train(
            net, named, H, epochs, iterations, batch_size, lr, momentum, lr_step, gamma,
            weight_decay, verbose, "finetune", optimizer, callback, warmup=warmup,
            nesterov=nesterov)
        return self.history_["finetune"]

    def _train(self, net, named, X, epochs, iterations, batch_size, lr, momentum, lr_step,
               gamma, weight_decay, verbose, label, optimizer="sgd", callback=None, prep=None,
               warmup=0, nesterov=False):
        n = X.shape[0]
        per_epoch = -(-n // batch_size)
        if (epochs is None) == (iterations is None):
            raise ValueError("give exactly one of epochs or iterations")
        total = int(iterations) if iterations is not None else int(epochs) * per_epoch
        if total < 1 or batch_size < 1:
            raise ValueError("epochs/iterations and batch_size must be positive")
        params, grads = ({f"{name}.{k}": v for name, l in named.items()
                          for k, v in getattr(l, attr).items()} for attr in ("params", "grads"))
        if optimizer == "sgd":
            opt = SGD(lr, momentum, weight_decay, lr_step, gamma, warmup, nesterov)
        elif optimizer == "adam":
            opt = Adam(lr, step_size=lr_step, gamma=gamma, warmup=warmup)
        else:
            raise ValueError(f"optimizer must be 'sgd' or 'adam', got {optimizer!r}")
        progress = Progress(label, total, verbose)
        history, running, count = [], 0.0, 0
        stream = BatchStream(n, batch_size, self.rng, self.xp)
        for it in range(1, total + 1):
            _, idx = next(stream)
            xb = X[idx] if prep is None else prep.forward(X[idx])  # clean input of the pair
            out = net.forward(xb, train=True)
            loss, dout = mse(out, xb, self.loss_reduction)
            net.backward(dout, need_dx=False)
            opt.step(params, grads)
            running = running + loss
            count += 1
            if count == per_epoch or it == total:
                mean = float(running) / count
                if not np.isfinite(mean):
                    raise FloatingPointError(
                        f"{label}: the loss became {mean} at iteration {it}; lower lr "
                        f"(now {opt.current_lr:g}) or check the input scaling")
                history.append(mean)
                running, count = 0.0, 0
                progress(it, mean, force=it == total)
                if callback is not None:
                    callback(len(history), mean)
        return history

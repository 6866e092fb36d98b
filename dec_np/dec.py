"""The DEC estimator (Sec. 3 of the paper): pretrain an SAE, k-means in z, then minimise KL(P||Q).

The estimator only orchestrates: the equations live in :mod:`dec_np.dec_math`, the
network in :mod:`dec_np.autoencoder`, k-means in :mod:`dec_np.kmeans`.
"""
from __future__ import annotations

import copy
import sys
import time
import warnings

import numpy as np

from .autoencoder import StackedAutoencoder
from .backend import DEFAULT_DTYPE, asnumpy, get_backend, seed_sequence, to_device
from .checkpoint import FitCheckpoint, load_fit_state, read_dec, resume_loop
from .dec_math import kl_divergence, kl_gradients, soft_assignment, target_distribution
from .kmeans import kmeans
from .metrics import cluster_accuracy, nmi
from .optim import SGD
from .scaling import input_scale_factor
from .schedules import get_schedule, run_schedule
from .utils import BatchStream, Progress, check_array


class DEC:
    """Deep Embedded Clustering (Xie, Girshick & Farhadi, ICML 2016).

    Parameters
    ----------
    n_clusters : int, default 10
    hidden_dims : tuple of int, default (500, 500, 2000, 10)
        Encoder widths after the input; the input width comes from X at fit time.
    alpha : float, default 1.0
        Degrees of freedom of the Student's t kernel.
    autoencoder : StackedAutoencoder or None
        An already pretrained SAE to start from (it is copied, not modified); None
        pretrains one with ``schedule``.  X is scaled by ``input_scaling`` before it is
        encoded, so give the setting the SAE was trained with (None if it saw X as is).
    schedule : str or dict, default "default"
        Pretraining schedule by name or a dict of the same form (see
        :mod:`dec_np.schedules`): "default" is "adam" (end to end, Adam, batch 256, 8,000
        steps; the best on the MNIST test set in round 7 of the README); "paper" is the
        paper's layer-wise denoising schedule; also "b64-steps", "b256-steps", "b64-epochs",
        "b256" and "fast".
    input_scaling : "auto", "paper", "max" or None, default "auto"
        X is multiplied by one scalar, learnt in ``fit`` (``scale_``) and reused by
        ``predict`` and ``transform``: "paper" makes the mean of (1/d)|x|^2 equal 1 (the
        paper's convention), "max" makes max |x| equal 1 (pixels in [0, 1] stay as they
        are), None uses X as given, and "auto" takes the scaling of ``schedule`` ("max"
        for the default "adam", "paper" for the layer-wise schedules).  With an
        ``autoencoder`` given, use the scaling it was pretrained with: the same
        ``schedule`` name, or the scaling itself.
    batch_size : int, default 256
    lr, momentum : float, default 0.01 and 0.9
        SGD with momentum on the encoder weights and the centroids jointly, applied to
        the batch mean of the KL loss.
    update_interval : int, default 140
        Iterations between recomputations of the target P from all points (lambda).
    tol : float, default 0.001
        Stop when fewer than this fraction of points change cluster between two updates.
    max_iter : int, default 20000
    n_init : int, default 20
        k-means restarts for the initial centroids.
    update_encoder : bool, default True
        False gives the paper's "DEC w/o backprop" ablation: only the centroids move.
    backend : "numpy", "cupy" or None (``$DEC_NP_BACKEND``, else numpy)
    random_state : None or int
        Seeds the weights, dropout, batches and k-means.
    verbose : bool

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
    cluster_centers_ : ndarray of shape (n_clusters, z_dim)
    autoencoder_ : StackedAutoencoder, the encoder after DEC
    init_labels_, init_centers_ : the AE + k-means starting point
    scale_ : float
    n_iter_ : int
    history_ : dict of lists: "iteration", "delta_label", "loss" (mean KL per point),
        and "acc", "nmi" when ``y`` is passed to ``fit``
    """

    def __init__(self, n_clusters=10, hidden_dims=(500, 500, 2000, 10), alpha=1.0,
                 autoencoder=None, schedule="default", input_scaling="auto", batch_size=256,
                 lr=0.01, momentum=0.9, update_interval=140, tol=0.001, max_iter=20000,
                 n_init=20, update_encoder=True, backend=None, random_state=None, verbose=False):
        self.n_clusters = n_clusters
        self.hidden_dims = hidden_dims
        self.alpha = alpha
        self.autoencoder = autoencoder
        self.schedule = schedule
        self.input_scaling = input_scaling
        self.batch_size = batch_size
        self.lr = lr
        self.momentum = momentum
        self.update_interval = update_interval
        self.tol = tol
        self.max_iter = max_iter
        self.n_init = n_init
        self.update_encoder = update_encoder
        self.backend = backend
        self.random_state = random_state
        self.verbose = verbose

    # -- validation -----------------------------------------------------------------
    def _validate(self, X):
        X = check_array(X)
        n, d = X.shape
        k = self.n_clusters
        if not isinstance(k, (int, np.integer)) or not 2 <= k <= n:
            raise ValueError(f"n_clusters must be an integer in [2, n_samples={n}], got {k!r}")
        if not self.alpha > 0:
            raise ValueError(f"alpha must be > 0, got {self.alpha}")
        for name in ("batch_size", "update_interval", "max_iter", "n_init"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if not self.lr > 0 or not 0 <= self.momentum < 1 or not 0 <= self.tol < 1:
            raise ValueError("need lr > 0, 0 <= momentum < 1 and 0 <= tol < 1")
        if self.input_scaling not in ("auto", "paper", "max", None):
            raise ValueError(f"input_scaling must be 'auto', 'paper', 'max' or None, got "
                             f"{self.input_scaling!r}")
        if self.autoencoder is not None:
            if not isinstance(self.autoencoder, StackedAutoencoder):
                raise ValueError("autoencoder must be a StackedAutoencoder")
            if self.autoencoder.dims[0] != d:
                raise ValueError(f"the autoencoder expects {self.autoencoder.dims[0]} features, "
                                 f"X has {d}")
        if self.autoencoder is None or self.input_scaling == "auto":
            get_schedule(self.schedule)  # raises ValueError for an unknown name
        return X

    # -- fitting --------------------------------------------------------------------
    def fit(self, X, y=None, checkpoint_path=None, resume_from=None):
        """Pretrain (unless given an autoencoder), initialise with k-means, then run DEC.

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
        y : array of shape (n_samples,), optional
            Only recorded for monitoring (ACC and NMI in ``history_``); never used to train.
        checkpoint_path : str or Path, optional
            Save the state of the clustering phase there (atomically) at target updates, at
            most every 10 s, and on Ctrl-C at the end of the current iteration before raising
            KeyboardInterrupt (see :class:`dec_np.checkpoint.FitCheckpoint`).
        resume_from : str or Path, optional
            Continue from such a state instead of pretraining and k-means: with the same X,
            settings and ``random_state`` the result equals that of an uninterrupted fit.

        Returns
        -------
        self
        """
        X = self._validate(X)
        xp = get_backend(self.backend)
        rng = seed_sequence(self.random_state)
        y = None if y is None else asnumpy(y)
        scaling = self.input_scaling
        if scaling == "auto":
            scaling = get_schedule(self.schedule)["input_scaling"]
        self.scale_ = input_scale_factor(asnumpy(X), scaling)
        Xd = to_device(X, xp, DEFAULT_DTYPE) * DEFAULT_DTYPE(self.scale_)

        t0 = time.perf_counter()
        state = None if resume_from is None else load_fit_state(resume_from, self, X)
        if state is not None:
            sae = state["autoencoder"]
            t0 -= state["pretrain_time"]
        elif self.autoencoder is None:
            s = get_schedule(self.schedule)
            sae = StackedAutoencoder((X.shape[1],) + tuple(self.hidden_dims), backend=self.backend,
                                     random_state=rng, **s["model"])
            run_schedule(sae, Xd, s, self.verbose)
        else:
            sae = copy.deepcopy(self.autoencoder)
            if sae.xp is not xp:
                raise ValueError("the autoencoder lives on another backend than backend=")
        self.pretrain_time_ = time.perf_counter() - t0
        self.autoencoder_ = sae

        z = sae.encode(Xd)
        if state is None:
            mu, labels, _ = kmeans(z, self.n_clusters, n_init=self.n_init, random_state=rng)
            self.init_centers_, self.init_labels_ = asnumpy(mu), asnumpy(labels)
        else:
            mu, self.init_centers_, self.init_labels_ = (state["mu"], state["init_centers"],
                                                         state["init_labels"])
        if checkpoint_path is None:
            self._run(Xd, z, mu, y, rng, xp, None, state)
        else:
            with FitCheckpoint(checkpoint_path) as checkpoint:
                self._run(Xd, z, mu, y, rng, xp, checkpoint, state)
        self.fit_time_ = time.perf_counter() - t0
        return self

    def _run(self, X, z, mu, y, rng, xp, checkpoint=None, state=None):
        """The clustering phase (Sec. 3.1): SGD on KL(P||Q), P refreshed every update_interval.

        ``checkpoint`` (a :class:`~dec_np.checkpoint.FitCheckpoint`) sees the loop's state at
        the top of every iteration and may save it; ``state`` (from
        :func:`~dec_np.checkpoint.load_fit_state`) is where an interrupted fit stopped.
        """
        sae, n, train = self.autoencoder_, X.shape[0], self.update_encoder
        encoder = sae.encoder()
        mu = mu.astype(X.dtype)
        # theta (the encoder's weights) and mu move together; the decoder is not used any more
        params = {k: v for k, v in sae.params.items() if train and k.startswith("enc")}
        grads = {k: v for k, v in sae.grads.items() if train and k.startswith("enc")}
        params["mu"] = mu
        opt = SGD(self.lr, self.momentum)
        stream = BatchStream(n, self.batch_size, rng, xp, state and state["stream"])
        hist = {"iteration": [], "delta_label": [], "loss": []}
        if y is not None:
            hist.update(acc=[], nmi=[])
        progress = Progress("dec", self.max_iter, self.verbose)
        it, labels_prev, p = 0, None, None
        if state is not None:
            it, labels_prev, p = resume_loop(state, opt, hist)
        while True:
            if checkpoint is not None:
                checkpoint.at_iteration(self, it, mu, opt, stream, labels_prev, hist, p)
            if it % self.update_interval == 0:
                # the target from ALL points (Eq. 1 then Eq. 3), held fixed until the next update
                if train and it > 0:
                    z = sae._apply(encoder, X)
                q = soft_assignment(z, mu, self.alpha)
                p = target_distribution(q)
                labels = asnumpy(q.argmax(axis=1))
                delta = 1.0 if labels_prev is None else float(np.mean(labels != labels_prev))
                self._record(hist, it, kl_divergence(p, q) / n, delta, labels, y, mu, xp)
                progress(it, hist["loss"][-1])
                # stop when fewer than tol of the points changed cluster since the last update
                if (labels_prev is not None and delta < self.tol) or it >= self.max_iter:
                    break
                labels_prev = labels
            # one SGD step on a mini-batch: q_i (Eq. 1), dL/dz_i and dL/dmu_j (Eq. 4, 5)
            _, idx = next(stream)
            zb = encoder.forward(X[idx], train=True) if train else z[idx]
            qb = soft_assignment(zb, mu, self.alpha)
            dz, dmu = kl_gradients(zb, mu, p[idx], qb, self.alpha)
            inv = X.dtype.type(1.0 / zb.shape[0])  # the gradient of the batch-mean loss
            if train:
                encoder.backward(dz * inv, need_dx=False)  # dL/dz_i back-propagated into theta
            grads["mu"] = dmu * inv
            opt.step(params, grads)
            it += 1
        self.n_iter_, self.history_, self.labels_ = it, hist, labels
        self.cluster_centers_, self._mu = asnumpy(mu), mu
        counts = np.bincount(labels, minlength=self.n_clusters)
        if (counts == 0).any():
            warnings.warn(f"DEC ended with {int((counts == 0).sum())} empty cluster(s) out of "
                          f"{self.n_clusters}: the clusters collapsed; try a smaller lr or "
                          "another random_state", RuntimeWarning, stacklevel=3)

    def _record(self, hist, it, loss, delta, labels, y, mu, xp):
        """Append one target update to ``history_``; stop a diverged run with a clear error."""
        if not np.isfinite(loss) or not bool(xp.isfinite(mu).all()):
            raise FloatingPointError(f"DEC diverged at iteration {it} (loss {loss}); try a lower "
                                     f"lr (now {self.lr}) or input_scaling='paper'")
        hist["iteration"].append(it)
        hist["delta_label"].append(delta)
        hist["loss"].append(loss)
        if y is not None:
            hist["acc"].append(cluster_accuracy(y, labels))
            hist["nmi"].append(nmi(y, labels))
            if self.verbose:
                print(f"dec {it:>7d}  acc {hist['acc'][-1]:.4f}  nmi {hist['nmi'][-1]:.4f}  "
                      f"delta {delta:.4f}", file=sys.stderr, flush=True)

    # -- inference ------------------------------------------------------------------
    def _check_fitted(self):
        if not hasattr(self, "labels_"):
            raise RuntimeError("this DEC instance is not fitted yet; call fit(X) first")

    def _z(self, X):
        self._check_fitted()
        X = check_array(X, self.autoencoder_.dims[0])
        xp = self.autoencoder_.xp
        return self.autoencoder_.encode(to_device(X, xp, DEFAULT_DTYPE) * DEFAULT_DTYPE(self.scale_))

    def transform(self, X):
        """The embedding z = f_theta(X), shape (n_samples, z_dim), as a NumPy array."""
        return asnumpy(self._z(X))

    def predict_proba(self, X):
        """Soft assignments q, shape (n_samples, n_clusters), rows summing to 1."""
        return asnumpy(soft_assignment(self._z(X), self._mu, self.alpha))

    def predict(self, X):
        """Hard cluster labels argmax_j q_ij, shape (n_samples,)."""
        return self.predict_proba(X).argmax(axis=1)

    def fit_predict(self, X, y=None):
        """``fit(X, y)`` then return ``labels_``."""
        return self.fit(X, y).labels_


def load_dec(path, backend=None):
    """Load a DEC saved by :func:`dec_np.checkpoint.save_dec`; it predicts as the saved one did.

    ``backend`` None means ``$DEC_NP_BACKEND``, else numpy, whatever backend saved it.
    """
    return read_dec(path, DEC, backend)

"""The DEC estimator (Sec. 3 of the paper): pretrain an SAE, k-means in z, then minimise KL(P||Q).

The estimator only orchestrates: the equations live in :mod:`dec_np.dec_math`, the
network in :mod:`dec_np.autoencoder`, k-means in :mod:`dec_np.kmeans`.
"""
from __future__ import annotations

import copy
import numbers
import os
import sys
import time
import warnings

import numpy as np
from numpy.random import Generator
from numpy.typing import ArrayLike

from .augment import augmenter, neighbour_rows
from .autoencoder import StackedAutoencoder
from .backend import (DEFAULT_DTYPE, asnumpy, get_array_module, get_backend, seed_sequence,
                      to_device)
from .base import (BaseEstimator, ClusterMixin, check_feature_names, feature_names,
                   validate_data)
from .checkpoint import FitCheckpoint, load_fit_state, read_dec, resume_loop
from .dec_math import _kl_divergence, _kl_gradients, _soft_assignment, _target_distribution
from .kmeans import kmeans
from .metrics import check_labels, cluster_accuracy, nmi
from .neighbours import nearest_neighbours
from .optim import SGD
from .scaling import input_scale_factor
from .threads import host_threads, resolve_n_jobs
from .schedules import for_rows, get_schedule, run_schedule
from .utils import BatchStream, Progress


class DEC(ClusterMixin, BaseEstimator):
    """Deep Embedded Clustering (Xie, Girshick & Farhadi, ICML 2016).

    ``fit`` pretrains a stacked autoencoder (unless one is given), runs k-means on its
    embedding z, then moves the encoder weights and the centroids mu together to minimise
    KL(P || Q) (Eq. 2).  A scikit-learn estimator that does not need scikit-learn.

    Parameters
    ----------
    n_clusters : int, default 10
        Number of clusters k, at least 2 and at most the number of samples.
    hidden_dims : tuple of int, default (500, 500, 2000, 10)
        Encoder widths after the input; the input width comes from X at fit time.
    alpha : float in [1e-6, 1e6], default 1.0
        Degrees of freedom of the Student's t kernel (Eq. 1).
    autoencoder : StackedAutoencoder or None, default None
        An already pretrained SAE to start from (it is copied, not modified); None
        pretrains one with ``schedule``.  X is scaled by ``input_scaling`` before it is
        encoded, so give the setting the SAE was trained with (None if it saw X as is).
    schedule : str or dict, default "default"
        Pretraining schedule by name or as a dict (:mod:`dec_np.schedules`, which
        describes each; :func:`~dec_np.schedules.with_lr` changes its rates).  "default"
        (:data:`~dec_np.schedules.DEFAULT`, "dae-adam-short-shift") runs the paper's greedy
        layer-wise denoising stage (6,000 SGD steps per depth), then fine-tunes the whole
        autoencoder by Adam for 3,000 steps (at least 44 epochs), on images shifted at
        random when ``image_shape`` is given.  ``schedule_`` holds what ran on X's rows.
        Others: "dae-adam-cap-shift" (the previous default, 8,000 Adam steps), "paper" (the
        paper's schedule, about 300,000 steps), "paper-short" and "paper-epochs" (its
        CPU-budget forms, in steps and in epochs),
        "adam", "adam-shift" and "sgd" (end to end, no layer-wise stage), "long" (the
        default's layer-wise stage, then 16,000 Adam steps) and "fast" (for tests and demos).
    input_scaling : "auto", "paper", "max" or None, default "auto"
        X is multiplied by one scalar learnt in ``fit`` (``scale_``, :mod:`dec_np.scaling`):
        "paper" makes the mean of ``(1/d)|x|^2`` equal 1, "max" makes ``max |x|`` equal 1, None
        keeps X, "auto" takes the schedule's own.  With an ``autoencoder`` given, use the
        scaling it was pretrained with.
    image_shape : (int, int) or None, default None
        (H, W) when each row of X is an H x W image (row-major).  Then a schedule with an
        "augment" entry (the default, "dae-adam-cap-shift", "adam-shift", "long")
        fine-tunes on images shifted at random by up to 10% of their side, and
        ``augment="auto"`` runs the clustering phase on shifted and rotated images.  None
        treats X as plain features and never shifts or turns them (on plain arrays the
        default measured no worse than "adam" on three data sets, five seeds each).  Give
        it for images: on 10,000 MNIST images it lifts the median DEC ACC over five seeds
        by 9 points (docs/defaults-study.md).
    batch_size : int, default 256
        Mini-batch size of the clustering phase.
    lr : float, default 0.01
        Learning rate of the clustering phase: SGD with momentum on the encoder weights and
        the centroids jointly, applied to the batch mean of the KL loss.  (Pretraining has
        its own rates, in ``schedule``.)
    momentum : float, default 0.9
        Momentum of that SGD, in [0, 1).
    update_interval : int, default 140
        Iterations between recomputations of the target P from all points (lambda).
    tol : float, default 0.001
        Stop when fewer than this fraction of points change cluster between two updates.
    max_iter : int or "auto", default "auto"
        Most SGD iterations of the clustering phase; "auto": 2,520
        (:func:`clustering_settings`), where an augmented phase meets the ``tol`` test late or
        not at all and a plain one has ended within a few tenths of a point of where the
        test stops it (docs/defaults-study.md).
    n_init : int, default 20
        k-means restarts for the initial centroids.
    update_encoder : bool, default True
        False gives the paper's "DEC w/o backprop" ablation: only the centroids move.
    backend : "numpy", "cupy" or None, default None
        Where the arrays live; None means ``$DEC_NP_BACKEND``, else numpy.
    random_state : None, int or numpy Generator, default None
        Seeds the weights, dropout, batches and k-means.
    n_jobs : int, None or "blas", default None
        Threads of ``fit`` on the CPU (:mod:`dec_np.threads`).  None or "blas": BLAS's own
        threads (``OPENBLAS_NUM_THREADS``..., all cores unless limited), the package's other
        work in one thread: on the 2-core machine of docs/performance.md level with two host
        threads for a fit of 10,000 rows but slower on 70,000, whose Adam stage is longer;
        and a seed's numbers depend on BLAS's thread count.  An int: that many host threads with BLAS on one thread each, sharing the two fixed halves of
        each forward product, the independent products of each backward pass, Adam's
        updates, the row blocks of an encoding and the k-means restarts, so a seed gives the
        same numbers to the bit whatever the int and the machine's core count (-1: all
        cores, -2 all but one, ...); the study's records in docs/ were made with
        ``n_jobs=1``.  Ignored on a GPU.
    verbose : bool, default False
        Print progress lines to stderr.
    augment : "auto", dict or None, default "auto"
        "auto": ``{"shift": 0.1, "rotate": 10}`` when ``image_shape`` is given (and
        ``update_encoder``), else None (:func:`clustering_settings`; ``augment_`` holds what
        ran).  ``{"shift": fraction}`` with ``image_shape`` given: in each step of the clustering
        phase the encoder learns from the mini-batch with every image shifted at random by
        up to ``fraction`` of its side (:func:`dec_np.augment.shifter`), as Guo et al. (ACML
        2018) do.  The step is still the paper's KL(P||Q) step: the target P comes from the
        clean images at every update, held fixed, so a shifted image is pulled towards the
        target of its clean self, and the gradients dL/dz_i, dL/dmu_j (Eq. 4, 5) do not
        change; labels and the stopping test use the clean images.  The shifts of step t
        come from a generator seeded by ``(random_state, t)``, so with an int
        ``random_state`` a resumed fit shifts as the uninterrupted one does.  With shifts a
        few tenths of a per cent of the labels keep changing between updates, so the ``tol``
        test is met late or not at all: ``max_iter=4200`` keeps nearly all the gain for about
        1.1 times the fit's time without shifts (measured: docs/experiments.md).
        ``{"shift": fraction, "rotate": degrees}`` also turns each image by a random angle
        of up to ``degrees`` either way before the shift (:func:`dec_np.augment.random_rotate`,
        bilinear; 10 degrees measured in docs/experiments.md).  ``{"mask": p}``, for rows of
        any kind (no ``image_shape`` needed): the encoder learns from the mini-batch with
        each value zeroed with probability ``p`` and the others scaled by 1 / (1 - p)
        (:func:`dec_np.augment.random_mask`, the input dropout of the denoising
        autoencoders), the masks of step t drawn as the shifts are; not the default, since
        on three data sets read as plain arrays it ended within the seed-to-seed spread of
        the paper's step (docs/defaults-study.md).  ``{"neighbours": k}``, for rows of any
        kind: each row of the encoder's mini-batch is swapped for one of its k nearest
        neighbours in the embedding k-means clustered
        (:func:`dec_np.neighbours.nearest_neighbours`, found once as the phase starts), drawn
        at random as the shifts are, and learns the target of the row it stands for
        (:func:`dec_np.augment.neighbour_rows`); not the default, since on three data sets
        read as plain arrays it put the digits ahead and the clothes behind, each within
        the seed-to-seed spread (docs/defaults-study.md).  None: the paper's step on the
        rows as they are.

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        The cluster of each row of the X seen by ``fit``: argmax_j q_ij at the end.
    cluster_centers_ : ndarray of shape (n_clusters, z_dim)
        The centroids mu_j in the embedding.
    augment_ : dict or None
        The clustering phase's augmentation that ran (``augment`` with "auto" resolved).
    max_iter_ : int
        The clustering phase's cap that applied (``max_iter`` with "auto" resolved).
    schedule_ : dict or None
        The pretraining that ran: the schedule dict (:mod:`dec_np.schedules`) as it ran on
        X's rows (:func:`~dec_np.schedules.for_rows`: the rate of its "lr_below" applied),
        with its "augment" entry set to None when the rows were not declared images (they
        were then never shifted); None when ``autoencoder`` was given.
    n_features_in_ : int
        Width of the X seen by ``fit``.
    feature_names_in_ : ndarray of shape (``n_features_in_``,), dtype object
        The column names of X, only when ``fit`` was given a DataFrame with string column
        names; later calls then check that X has the same names.
    autoencoder_ : StackedAutoencoder, the encoder after DEC
    init_labels_, init_centers_ : the AE + k-means starting point
    scale_ : float
        The factor X was multiplied by (``input_scaling``).
    n_iter_ : int
        Iterations of the clustering phase.
    history_ : dict of lists: "iteration", "delta_label", "loss" (mean KL per point),
        and "acc", "nmi" when ``y`` is passed to ``fit``

    Examples
    --------
    >>> from dec_np import DEC
    >>> from dec_np.datasets import load_digits
    >>> X, y = load_digits()
    >>> X, y = X[y < 3][:150], y[y < 3][:150]     # 150 images of the digits 0, 1 and 2
    >>> model = DEC(n_clusters=3, hidden_dims=(32, 3), schedule="fast", n_init=5, random_state=0)
    >>> model
    DEC(n_clusters=3, hidden_dims=(32, 3), schedule='fast', n_init=5, random_state=0)
    >>> labels = model.fit_predict(X)
    >>> labels.shape, model.predict_proba(X).shape, model.transform(X).shape
    ((150,), (150, 3), (150, 3))
    >>> from dec_np.metrics import cluster_accuracy
    >>> cluster_accuracy(y, labels) > 0.8
    True
    """

    _estimator_type = "clusterer"

    def __init__(self, n_clusters: int = 10, hidden_dims: tuple[int, ...] = (500, 500, 2000, 10),
                 alpha: float = 1.0, autoencoder: StackedAutoencoder | None = None,
                 schedule: str | dict = "default", input_scaling: str | None = "auto",
                 image_shape: tuple[int, int] | None = None, batch_size: int = 256,
                 lr: float = 0.01, momentum: float = 0.9,
                 update_interval: int = 140, tol: float = 0.001,
                 max_iter: int | str = "auto",
                 n_init: int = 20, update_encoder: bool = True, backend: str | None = None,
                 random_state: int | Generator | None = None, n_jobs: int | str | None = None,
                 verbose: bool = False, augment: dict | str | None = "auto") -> None:
        self.n_clusters = n_clusters
        self.hidden_dims = hidden_dims
        self.alpha = alpha
        self.autoencoder = autoencoder
        self.schedule = schedule
        self.input_scaling = input_scaling
        self.image_shape = image_shape
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
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.augment = augment

    # -- fitting --------------------------------------------------------------------
    def fit(self, X: ArrayLike, y: ArrayLike | None = None,
            checkpoint_path: str | os.PathLike | None = None,
            resume_from: str | os.PathLike | None = None,
            generator: np.random.Generator | None = None) -> DEC:
        """Pretrain (unless given an autoencoder), initialise with k-means, then run DEC.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Dense real data without NaN or inf (a sparse matrix is refused: TypeError).
        y : array-like of shape (n_samples,), optional
            Only recorded for monitoring (ACC and NMI in ``history_``); never used to train.
            Checked before any work: one label per row, no NaN.
        checkpoint_path : str or Path, optional
            Save the state of the clustering phase there (atomically) at target updates, at
            most every 10 s, and on Ctrl-C at the end of the current iteration before raising
            KeyboardInterrupt (see :class:`dec_np.checkpoint.FitCheckpoint`).
        resume_from : str or Path, optional
            Continue from such a state instead of pretraining and k-means: with the same X,
            settings and ``random_state`` the result equals that of an uninterrupted fit.
        generator : numpy.random.Generator, optional
            Where k-means and the clustering phase draw from, instead of a new generator
            seeded with ``random_state``.  With ``autoencoder`` pretrained from
            ``StackedAutoencoder(random_state=random_state)`` by the schedule's own steps,
            passing that model's ``rng`` (as pretraining left it) gives the numbers of a fit
            that pretrains itself, to the bit: what ``dec-np fit`` does.

        Returns
        -------
        self : DEC
            The fitted model.

        Raises
        ------
        ValueError
            Before any work, for a parameter out of its range, X that is not finite or
            overflows or underflows float32 (the dtype DEC computes in), or y of another
            length than X or with NaN labels.
        """
        data = _validate(self, X)
        labels = None
        if y is not None:  # checked now, not after pretraining
            labels = check_labels(y, "y")
            if labels.shape[0] != data.shape[0]:
                raise ValueError(f"y has {labels.shape[0]} labels but X has {data.shape[0]} "
                                 "rows")
        resolve_n_jobs(self.n_jobs)  # a bad n_jobs fails here, before any work
        with host_threads(self.n_jobs):
            return self._fit(data, labels, checkpoint_path, resume_from, generator)

    def _fit(self, X, y, checkpoint_path, resume_from, generator=None):
        xp = get_backend(self.backend)
        rng = seed_sequence(self.random_state) if generator is None else generator
        y = None if y is None else asnumpy(y)
        scaling = self.input_scaling
        if scaling == "auto":
            scaling = get_schedule(self.schedule, self.image_shape is not None)["input_scaling"]
        self.scale_ = input_scale_factor(asnumpy(X), scaling)
        Xd = to_device(X, xp, DEFAULT_DTYPE) * DEFAULT_DTYPE(self.scale_)

        t0 = time.perf_counter()
        state = None if resume_from is None else load_fit_state(resume_from, self, X)
        if state is not None:
            sae = state["autoencoder"]
            t0 -= state["pretrain_time"]
        elif self.autoencoder is None:
            s = get_schedule(self.schedule, self.image_shape is not None)
            sae = StackedAutoencoder((X.shape[1],) + tuple(self.hidden_dims), backend=self.backend,
                                     random_state=rng, **s["model"])
            run_schedule(sae, Xd, s, self.verbose, self.image_shape)
        else:
            sae = copy.deepcopy(self.autoencoder)
            if sae.xp is not xp:
                raise ValueError("the autoencoder lives on another backend than backend=")
        self.pretrain_time_ = time.perf_counter() - t0
        self.schedule_ = None if self.autoencoder is not None else _ran(self, X.shape[0])
        self.augment_, self.max_iter_ = clustering_settings(self)
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
        params["mu"], grads["mu"] = mu, get_array_module(mu).zeros_like(mu)  # dL/dmu, in place
        opt = SGD(self.lr, self.momentum)
        shift, seed, nbr = None, None, None
        if self.augment_ is not None and train:
            if "neighbours" in self.augment_:  # of each point in the embedding k-means saw
                k = self.augment_["neighbours"]
                nbr = nearest_neighbours(z, k) if state is None else state["neighbours"]
                if nbr is None or nbr.shape[1] != k:
                    raise ValueError("the saved state lacks the neighbours its fit trained on")
            else:
                shift = augmenter(self.augment_, self.image_shape)
            seed = (int(self.random_state) if isinstance(self.random_state, numbers.Integral)
                    else int(rng.integers(2**32)))
        stream = BatchStream(n, self.batch_size, rng, xp, state and state["stream"])
        hist = {"iteration": [], "delta_label": [], "loss": []}
        if y is not None:
            hist.update(acc=[], nmi=[])
        progress = Progress("dec", self.max_iter_, self.verbose)
        it, labels_prev, p = 0, None, None
        if state is not None:
            it, labels_prev, p = resume_loop(state, opt, hist)
        while True:
            if checkpoint is not None:
                checkpoint.at_iteration(self, it, mu, opt, stream, labels_prev, hist, p, nbr)
            if it % self.update_interval == 0:
                # the target from ALL points (Eq. 1 then Eq. 3), held fixed until the next update
                if train and it > 0:
                    z = sae._apply(encoder, X)
                q = _soft_assignment(z, mu, self.alpha)
                p = _target_distribution(q)
                labels = asnumpy(q.argmax(axis=1))
                delta = 1.0 if labels_prev is None else float(np.mean(labels != labels_prev))
                _record(self, hist, it, _kl_divergence(p, q) / n, delta, labels, y, mu, xp)
                progress(it, hist["loss"][-1])
                # stop when fewer than tol of the points changed cluster since the last update
                if (labels_prev is not None and delta < self.tol) or it >= self.max_iter_:
                    break
                labels_prev = labels
            # one SGD step on a mini-batch: q_i (Eq. 1), dL/dz_i and dL/dmu_j (Eq. 4, 5)
            _, idx = next(stream)
            if nbr is not None:  # the neighbours' rows learn the batch's targets
                xb = X[neighbour_rows(idx, nbr, np.random.default_rng((seed, it)))]
            else:
                xb = X[idx]
            if shift is not None:  # the encoder learns from augmented rows; P stays the clean rows'
                xb = shift(xb, np.random.default_rng((seed, it)))
            zb = encoder.forward(xb, train=True) if train else z[idx]
            qb = _soft_assignment(zb, mu, self.alpha)
            dz, dmu = _kl_gradients(zb, mu, p[idx], qb, self.alpha)
            inv = X.dtype.type(1.0 / zb.shape[0])  # the gradient of the batch-mean loss
            if train:
                encoder.backward(dz * inv, need_dx=False)  # dL/dz_i back-propagated into theta
            get_array_module(dmu).multiply(dmu, inv, out=grads["mu"])
            opt.step(params, grads)
            it += 1
        self.n_iter_, self.history_, self.labels_ = it, hist, labels
        self.cluster_centers_, self._mu = asnumpy(mu), mu
        counts = np.bincount(labels, minlength=self.n_clusters)
        if (counts == 0).any():
            warnings.warn(f"DEC ended with {int((counts == 0).sum())} empty cluster(s) out of "
                          f"{self.n_clusters}: the clusters collapsed; try a smaller lr or "
                          "another random_state", RuntimeWarning, stacklevel=3)

    # -- inference ------------------------------------------------------------------
    def _z(self, X):
        self._check_fitted()
        check_feature_names(self, X, reset=False)
        X = validate_data(X, self.n_features_in_, type(self).__name__)
        xp = self.autoencoder_.xp
        Xd = _finite(to_device(X, xp, DEFAULT_DTYPE) * DEFAULT_DTYPE(self.scale_), X, self.scale_,
                     "X scaled and cast to float32")
        z = self.autoencoder_.encode(Xd)
        return _finite(z, X, self.scale_, "the embedding z")

    def transform(self, X: ArrayLike) -> np.ndarray:
        """The embedding z = f_theta(X) as a NumPy array.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data of the width seen by ``fit``, on the scale it had there.

        Returns
        -------
        z : ndarray of shape (n_samples, z_dim), float32
            The embedding of each row.
        """
        return asnumpy(self._z(X))

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Soft assignments q (Eq. 1), rows summing to 1.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data of the width seen by ``fit``, on the scale it had there.

        Returns
        -------
        q : ndarray of shape (n_samples, n_clusters), float32
            The soft assignment of each row to each cluster.

        Raises
        ------
        ValueError
            If X overflows the network (its embedding or q is not finite).
        """
        return asnumpy(self._q(X))

    def _q(self, X):
        """q of X on the model's device, checked finite."""
        q = _soft_assignment(self._z(X), self._mu, self.alpha)
        return _finite(q, X, self.scale_, "the soft assignment q")

    def score(self, X: ArrayLike, y: ArrayLike | None = None) -> float:
        """Minus DEC's loss on X: ``-KL(P || Q) / n_samples`` (Eq. 2), higher is better.

        Q is :meth:`predict_proba` of X and P its target distribution (Eq. 3) from X's own
        cluster frequencies, as ``fit`` computes them at a target update; the sum over
        points is divided by their number, so data sets of any size compare.  This is the
        number ``fit`` minimises (``history_["loss"]``, negated), so ``GridSearchCV`` without
        ``scoring`` and ``Pipeline.score`` rank models by how confidently and consistently
        they assign X, as scikit-learn's ``KMeans.score`` ranks them by minus the inertia.
        Like the inertia it is no model-selection criterion across ``n_clusters`` or
        ``alpha``: a model that puts every point confidently in one cluster scores 0, the
        maximum.  Use a labelled score (``scoring=``) to select those.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data of the width seen by ``fit``, on the scale it had there.
        y : None
            Ignored; present for the scikit-learn API.

        Returns
        -------
        score : float
            ``-KL(P || Q) / n_samples``, at most 0.
        """
        q = self._q(X)
        return -_kl_divergence(_target_distribution(q), q) / q.shape[0]

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Hard cluster labels argmax_j q_ij.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data of the width seen by ``fit``, on the scale it had there.

        Returns
        -------
        labels : ndarray of shape (n_samples,), int64
            The cluster of each row.
        """
        return self.predict_proba(X).argmax(axis=1)

    # -- pickling -------------------------------------------------------------------
    def __getstate__(self):
        """Host arrays only (the centres too); the autoencoder pickles its own way."""
        state = self.__dict__.copy()
        if "_mu" in state:
            state["_mu"] = asnumpy(state["_mu"])
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        if "_mu" in state:  # back onto the device its autoencoder was restored to
            sae = self.autoencoder_
            self._mu = to_device(self._mu, sae.xp, sae.dtype)


def _record(model, hist, it, loss, delta, labels, y, mu, xp):
    """Append one target update to ``history_``; stop a diverged run with a clear error."""
    if not np.isfinite(loss) or not bool(xp.isfinite(mu).all()):
        raise FloatingPointError(f"DEC diverged at iteration {it} (loss {loss}); try a lower "
                                 f"lr (now {model.lr}) or input_scaling='paper'")
    hist["iteration"].append(it)
    hist["delta_label"].append(delta)
    hist["loss"].append(loss)
    if y is not None:
        hist["acc"].append(cluster_accuracy(y, labels))
        hist["nmi"].append(nmi(y, labels))
        if model.verbose:
            print(f"dec {it:>7d}  acc {hist['acc'][-1]:.4f}  nmi {hist['nmi'][-1]:.4f}  "
                  f"delta {delta:.4f}", file=sys.stderr, flush=True)


#: the clustering phase's augmentation of images under ``augment="auto"``
AUTO_AUGMENT = {"shift": 0.1, "rotate": 10}
#: ``max_iter="auto"``: the cap of a clustering phase that augments, and of one that does not:
#: the same 2,520 (docs/defaults-study.md)
AUTO_MAX_ITER = {"augmented": 2520, "plain": 2520}


def clustering_settings(model: DEC) -> tuple[dict | None, int]:
    """The augmentation and the iteration cap of ``model``'s clustering phase, "auto" resolved.

    ``augment="auto"`` is :data:`AUTO_AUGMENT` (shifts of up to 10% of the side and turns of
    up to 10 degrees) when ``image_shape`` is given and the encoder trains, else None;
    ``max_iter="auto"`` is 2,520 whether the phase augments or not (:data:`AUTO_MAX_ITER`).

    Parameters
    ----------
    model : DEC
        The estimator; only its parameters are read.

    Returns
    -------
    augment : dict or None
        What ``augment`` stands for.
    max_iter : int
        What ``max_iter`` stands for.

    Examples
    --------
    >>> clustering_settings(DEC(image_shape=(28, 28)))
    ({'shift': 0.1, 'rotate': 10}, 2520)
    >>> clustering_settings(DEC())
    (None, 2520)
    >>> clustering_settings(DEC(image_shape=(28, 28), augment=None, max_iter=500))
    (None, 500)
    """
    given = model.augment
    aug: dict | None
    if isinstance(given, str):  # "auto"; other strings are refused by fit
        aug = (dict(AUTO_AUGMENT) if model.image_shape is not None and model.update_encoder
               else None)
    else:
        aug = None if given is None else dict(given)
    cap = model.max_iter
    max_iter = (AUTO_MAX_ITER["augmented" if aug is not None else "plain"]
                if isinstance(cap, str) else int(cap))
    return aug, max_iter


def _ran(model, n_samples=None):
    """The schedule dict ``model`` pretrains with, "augment" None where nothing was shifted.

    With ``n_samples``, as it runs on that many rows (:func:`~dec_np.schedules.for_rows`).
    """
    s = get_schedule(model.schedule, model.image_shape is not None)
    if n_samples is not None:
        s = for_rows(s, n_samples)
    if s.get("augment") and model.image_shape is None and not s["augment"].get("image_shape"):
        s["augment"] = None  # plain features: run_schedule never shifts them
    return s


def _finite(a, X, scale, what):
    """``a`` if it is all finite, else ValueError: X overflowed the network."""
    xp = get_array_module(a)
    if bool(xp.isfinite(a).all()):
        return a
    bad = int((~xp.isfinite(a)).any(axis=1).sum())
    big = float(get_array_module(X).abs(X).max())
    raise ValueError(f"X overflows the network: {what} of {bad} of {a.shape[0]} rows is not "
                     f"finite (max |x| = {big:.3g}, scaled by scale_={scale:.3g}); give X on the "
                     "scale of the data the model was fitted on")


#: the alphas DEC accepts: beyond them the float32 kernel ``(1 + |z - mu|^2 / alpha)``
#: overflows or loses its digits (1e-300 overflows, 1e300 rounds every distance to 0)
ALPHA_RANGE = (1e-6, 1e6)


def _real(v):
    return isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))


def _count(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_))


def check_float32_range(X, name="X"):
    """ValueError if the finite X over- or underflows float32, the dtype DEC computes in.

    float64 X beyond 3.4e38 becomes inf in float32, and X whose largest magnitude is below
    float32's smallest normal number (1.2e-38) becomes zeros and subnormals; both are
    reported as what they are, before any work.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Finite real data, NumPy or CuPy.
    name : str, default "X"
        How the message calls X.
    """
    if X.dtype.kind != "f" or X.size == 0:
        return  # integers and bools fit float32's range
    xp = get_array_module(X)
    big = max(float(X.max()), -float(X.min()))  # max |x| without an |X| temporary
    f32 = xp.finfo(xp.float32)
    if big > float(f32.max):
        raise ValueError(f"{name} has values up to |x| = {big:.3g}: they overflow float32 "
                         f"(largest {float(f32.max):.3g}), the dtype DEC computes in; divide "
                         f"{name} by a constant first (its scale does not matter to DEC)")
    if 0 < big < float(f32.tiny):
        raise ValueError(f"{name}'s largest |x| is {big:.3g}: it underflows float32 (smallest "
                         f"normal number {float(f32.tiny):.3g}), the dtype DEC computes in, to "
                         f"zeros and subnormals; multiply {name} by a constant first")


def _validate(model, X):
    """Check X and the settings of ``model`` before any work; ValueError saying what is wrong.

    Sets ``model.n_features_in_`` (and ``feature_names_in_`` for a DataFrame with string
    columns) once everything is valid.
    """
    names = feature_names(X)  # before X becomes an array
    X = validate_data(X, owner=type(model).__name__)
    check_float32_range(X)
    n, d = X.shape
    real, count = _real, _count
    k = model.n_clusters
    if not count(k) or not 2 <= k <= n:
        raise ValueError(f"n_clusters must be an integer in [2, n_samples={n}], got {k!r}")
    dims = model.hidden_dims
    if isinstance(dims, (str, bytes)) or not hasattr(dims, "__len__") or len(dims) == 0 \
            or not all(count(v) and v >= 1 for v in dims):
        raise ValueError(f"hidden_dims must be a non-empty sequence of positive integers "
                         f"(widths are never rounded), got {dims!r}")
    lo, hi = ALPHA_RANGE
    if not (real(model.alpha) and lo <= model.alpha <= hi):
        raise ValueError(f"alpha must be a number in [{lo:g}, {hi:g}] (beyond, the float32 "
                         f"kernel overflows or loses its digits), got {model.alpha!r}")
    for name in ("batch_size", "update_interval", "max_iter", "n_init"):
        v = getattr(model, name)
        if name == "max_iter" and isinstance(v, str) and v == "auto":
            continue
        if not count(v) or v < 1:
            also = ' or "auto"' if name == "max_iter" else ""
            raise ValueError(f"{name} must be a positive integer{also}, got {v!r}")
    for name, lo, hi in (("lr", 0, float("inf")), ("momentum", 0, 1), ("tol", 0, 1)):
        v = getattr(model, name)
        if not (real(v) and (lo < v < hi if name == "lr" else lo <= v < hi)):
            raise ValueError(f"need lr > 0 and finite, 0 <= momentum < 1 and 0 <= tol < 1; "
                             f"got {name}={v!r}")
    for name in ("update_encoder", "verbose"):
        v = getattr(model, name)
        if not isinstance(v, (bool, np.bool_)):
            raise ValueError(f"{name} must be True or False, got {v!r}")
    if model.input_scaling not in ("auto", "paper", "max", None):
        raise ValueError(f"input_scaling must be 'auto', 'paper', 'max' or None, got "
                         f"{model.input_scaling!r}")
    shape = model.image_shape
    if shape is not None and not (isinstance(shape, (tuple, list)) and len(shape) == 2
                                  and all(count(v) and v > 0 for v in shape)
                                  and shape[0] * shape[1] == d):
        raise ValueError(f"image_shape must be None or (H, W) with H * W = {d} features, "
                         f"got {shape!r}")
    aug = model.augment
    if not (isinstance(aug, str) and aug == "auto") and aug is not None:
        masks = (isinstance(aug, dict) and set(aug) == {"mask"} and _real(aug["mask"])
                 and 0 < aug["mask"] < 1)
        near = (isinstance(aug, dict) and set(aug) == {"neighbours"} and _count(aug["neighbours"])
                and 1 <= aug["neighbours"] < n)
        shifts = (isinstance(aug, dict) and {"shift"} <= set(aug) <= {"shift", "rotate"}
                  and _real(aug["shift"]) and 0 < aug["shift"] < 0.5
                  and _real(aug.get("rotate", 0)) and 0 <= aug.get("rotate", 0) <= 180)
        if not (masks or near or shifts):
            raise ValueError(f'augment must be "auto", None, {{"mask": p}} with p in (0, 1), '
                             f'{{"neighbours": k}} with k in [1, {n - 1}], or '
                             f'{{"shift": fraction}} with the fraction in (0, 0.5) and '
                             f'optionally "rotate": degrees in [0, 180]; got {aug!r}')
        if shifts and shape is None:
            raise ValueError("augment shifts images: give image_shape=(H, W) too")
        if model.update_encoder is not True:
            raise ValueError("augment trains the encoder on augmented batches: it needs "
                             "update_encoder=True")
    if model.autoencoder is not None:
        if not isinstance(model.autoencoder, StackedAutoencoder):
            raise ValueError("autoencoder must be a StackedAutoencoder")
        if model.autoencoder.dims[0] != d:
            raise ValueError(f"the autoencoder expects {model.autoencoder.dims[0]} features, "
                             f"X has {d}")
    if model.autoencoder is None or model.input_scaling == "auto":
        get_schedule(model.schedule, shape is not None)  # raises ValueError for an unknown name
    model.n_features_in_ = d
    model.__dict__.pop("feature_names_in_", None)  # a refit on an array forgets the names
    if names is not None:
        model.feature_names_in_ = names
    return X


def load_dec(path: str | os.PathLike, backend: str | None = None) -> DEC:
    """Load a DEC saved by :func:`dec_np.checkpoint.save_dec`; it predicts as the saved one did.

    Parameters
    ----------
    path : str or Path
        The file written by ``save_dec``.
    backend : "numpy", "cupy" or None, default None
        Where to load it; None means ``$DEC_NP_BACKEND``, else numpy, whatever backend
        saved it.

    Returns
    -------
    DEC
        The fitted model, with ``n_features_in_`` set.
    """
    model = read_dec(path, DEC, backend)
    model.n_features_in_ = model.autoencoder_.dims[0]
    return model

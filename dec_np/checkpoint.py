"""Checkpoints: a trained StackedAutoencoder or DEC in one ``.npz``, and resumable DEC fits.

A checkpoint holds the arrays under their names plus one JSON string (key ``meta``) with the
settings and the versions that wrote it.  Writes are atomic (a temporary file in the same
folder, then :func:`os.replace`); the temporary files of writers that died (``kill -9``) are
removed by the next write of the same name.  A damaged, truncated or mismatched file, metadata
of the wrong types, or non-finite weights raise ValueError at load.
"""
from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np

from .autoencoder import StackedAutoencoder
from ._npfile import load_checked
from .backend import asnumpy, to_device

PathLike = Union[str, "os.PathLike[str]"]
FORMAT_VERSION = 1
#: DEC settings a resumed fit must share with the interrupted one (the others, e.g.
#: max_iter, tol, verbose, may change).
RESUME_MUST_MATCH = ("n_clusters", "alpha", "input_scaling", "batch_size", "lr", "momentum",
                     "update_interval", "update_encoder", "random_state", "augment")


# ----------------------------------------------------------------------------- files
def _versions():
    from . import __version__
    return {"dec_np": __version__, "numpy": np.__version__, "python": sys.version.split()[0]}


def data_fingerprint(X: Any) -> str:
    """``"sha256:<hex>"`` of an array's shape, dtype and bytes: which data a run saw.

    Equal for equal arrays on either backend; any changed value, row order, shape or dtype
    changes it.

    Parameters
    ----------
    X : ndarray
        Any shape and dtype, NumPy or CuPy (copied to the host).

    Returns
    -------
    str
        ``"sha256:"`` and 64 hexadecimal digits.
    """
    a = np.ascontiguousarray(asnumpy(X))
    h = hashlib.sha256(f"{a.shape}|{a.dtype.str}|".encode())
    h.update(a.reshape(-1).view(np.uint8).data)
    return "sha256:" + h.hexdigest()


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # someone else's process (or not a pid we can ask about): assume alive
    return True


def remove_stale_temporaries(folder: PathLike, name: str = "*",
                             unowned: bool = False) -> "list[str]":
    """Remove the temporary files ``.<name>.<pid>.<random>.tmp`` in ``folder`` whose writer
    process is gone (a ``kill -9`` during a save).

    Parameters
    ----------
    folder : str or Path
        Where to look.
    name : str
        The file whose temporaries are meant (a glob pattern; ``"*"``: every file's).
    unowned : bool
        Also remove ``.<name>.<random>.tmp`` files that name no process (older versions
        wrote those): only safe in a folder no other process writes to (a locked one).

    Returns
    -------
    list of str
        The names removed.
    """
    removed = []
    for tmp in Path(folder).glob(f".{name}.*.tmp"):
        pid = tmp.name[:-len(".tmp")].rsplit(".", 2)[-2]
        if (not _pid_alive(int(pid))) if pid.isdigit() else unowned:
            with contextlib.suppress(OSError):
                tmp.unlink()
                removed.append(tmp.name)
    return removed


def _write(path, kind, arrays, meta):
    """Write ``arrays`` and ``meta`` (JSON) to ``path`` atomically: temp file, fsync, os.replace."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent, path.name)
    meta = dict(meta, format="dec_np", kind=kind, format_version=FORMAT_VERSION,
                versions=_versions())
    payload = {k: asnumpy(v) for k, v in arrays.items()}
    payload["meta"] = np.array(json.dumps(meta, default=_json_default))
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp",
                               dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **payload)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:  # KeyboardInterrupt too: never leave the temporary file behind
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def _json_default(x):
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(f"cannot store {type(x).__name__} in a checkpoint's JSON")


def _read(path, kind):
    """Read every array and the meta dict of a checkpoint of ``kind``; ValueError if unusable."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such checkpoint: {path}")
    try:
        arrays = load_checked(path, "checkpoint")  # headers checked before any allocation
        if not isinstance(arrays, dict):
            raise ValueError("an .npy array, not an .npz archive")
        meta = json.loads(str(arrays.pop("meta")))
    except (ValueError, KeyError, RecursionError) as exc:  # RecursionError: JSON nested deep
        raise ValueError(f"{path}: not a readable dec_np checkpoint (damaged, truncated or "
                         f"another kind of file: {type(exc).__name__}: {exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != "dec_np":
        raise ValueError(f"{path}: not a dec_np checkpoint (no dec_np metadata)")
    version = meta.get("format_version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise ValueError(f"{path}: format_version {version!r} is not an integer")
    if version > FORMAT_VERSION:
        raise ValueError(f"{path}: written by a newer dec_np ({meta.get('versions')}); upgrade")
    if meta.get("kind") != kind:
        raise ValueError(f"{path}: holds a {meta.get('kind')!r} checkpoint, not {kind!r}")
    for key in ("params", "autoencoder", "history"):
        if key in meta and not isinstance(meta[key], dict):
            raise ValueError(f"{path}: metadata {key!r} is a {type(meta[key]).__name__}, "
                             "not a mapping")
    for k, a in arrays.items():
        if a.dtype.kind in "fc" and not np.isfinite(a).all():
            raise ValueError(f"{path}: array {k!r} holds NaN or inf; the model is unusable")
    return meta, arrays


def _number(meta, key, path, none=False):
    """``meta[key]`` as a float, or ValueError naming the file (None allowed when ``none``)."""
    v = meta.get(key)
    if v is None and none:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v):
        raise ValueError(f"{path}: metadata {key!r} is {v!r}, not a finite number")
    return float(v)


# ----------------------------------------------------------------------------- autoencoder
def _sae_meta(sae):
    """The autoencoder's constructor settings (dims, p_drop, dtype, ...) and its history_."""
    out = {}
    for name in inspect.signature(StackedAutoencoder.__init__).parameters:
        if name not in ("self", "backend", "random_state") and hasattr(sae, name):
            v = getattr(sae, name)
            out[name] = v.name if isinstance(v, np.dtype) else list(v) if isinstance(v, tuple) else v
    out["history"] = sae.history_
    return out


#: dtypes a saved autoencoder may declare (the package trains in float32, checks in float64)
_FLOAT_DTYPES = ("float32", "float64")


def _check_stored_weights(dims, dtype, arrays, path):
    """Refuse metadata that does not match the stored weights, before anything is allocated.

    ``dims`` (checked to be positive integers) must give exactly the shapes of the stored
    ``sae/enc<i>.W``, ``sae/enc<i>.b``, ``sae/dec<i>.W``, ``sae/dec<i>.b``, which must be
    float arrays; ``dtype`` must name float32 or float64.
    """
    if not isinstance(dtype, str) or dtype not in _FLOAT_DTYPES:
        raise ValueError(f"{path}: the autoencoder dtype {dtype!r} is not one of "
                         f"{', '.join(_FLOAT_DTYPES)}")
    expected = {}
    for i in range(len(dims) - 1):
        a, b = dims[i], dims[i + 1]
        expected.update({f"sae/enc{i}.W": (a, b), f"sae/enc{i}.b": (b,),
                         f"sae/dec{i}.W": (b, a), f"sae/dec{i}.b": (a,)})
    stored = {k: v for k, v in arrays.items() if k.startswith("sae/")}
    for k in sorted(set(expected) | set(stored)):
        got = stored[k].shape if k in stored else None
        if got != expected.get(k):
            raise ValueError(f"{path}: the autoencoder dims {dims} do not match the stored "
                             f"weights ({k[4:]!r}: shape {got}, expected {expected.get(k)})")
        if stored[k].dtype.kind != "f":
            raise ValueError(f"{path}: weight {k[4:]!r} has dtype {stored[k].dtype}, not float")


def _sae_from(meta, arrays, backend, path):
    """Rebuild a StackedAutoencoder from ``meta`` and copy the "sae/<name>" arrays into it."""
    known = inspect.signature(StackedAutoencoder.__init__).parameters
    kw = {k: v for k, v in meta.items() if k in known and k not in ("backend", "random_state")}
    dims = kw.get("dims")
    if (not isinstance(dims, list) or len(dims) < 2
            or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in dims)):
        raise ValueError(f"{path}: autoencoder dims {dims!r} are not a list of positive "
                         "integers")
    _check_stored_weights(dims, kw.get("dtype", "float32"), arrays, path)
    num = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
    for name, ok in (("p_drop", num), ("init_std", lambda v: num(v) or isinstance(v, str)),
                     ("loss_reduction", lambda v: isinstance(v, str)),
                     ("dtype", lambda v: isinstance(v, str))):
        if name in kw and not ok(kw[name]):
            raise ValueError(f"{path}: the autoencoder setting {name}={kw[name]!r} has the "
                             "wrong type")
    try:
        sae = StackedAutoencoder(backend=backend, **kw)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"{path}: unusable autoencoder settings ({exc})") from None
    for k, w in sae.params.items():
        a = arrays.get("sae/" + k)
        if a is None or a.shape != w.shape:
            raise ValueError(f"{path}: weight {k!r} is missing or has shape "
                             f"{None if a is None else a.shape}, expected {w.shape}")
        with np.errstate(over="ignore"):
            w[...] = to_device(a, sae.xp, w.dtype)  # in place: the layers hold these arrays
        if not bool(sae.xp.isfinite(w).all()):
            raise ValueError(f"{path}: weight {k!r} overflows {w.dtype}")
    history = meta.get("history", {})
    if not isinstance(history, dict):
        raise ValueError(f"{path}: the autoencoder's history is not a mapping")
    sae.history_ = history
    return sae


def save_autoencoder(sae: StackedAutoencoder, path: PathLike) -> Path:
    """Save a StackedAutoencoder (weights, dims, p_drop, init_std, dtype, ``history_``) to ``path``.

    Parameters
    ----------
    sae : StackedAutoencoder
        The autoencoder, on either backend.
    path : str or Path
        The file, an ``.npz`` written atomically under exactly the name given (parent
        folders are created).

    Returns
    -------
    Path
        ``path``.
    """
    return _write(path, "autoencoder", {"sae/" + k: v for k, v in sae.params.items()},
                  {"autoencoder": _sae_meta(sae)})


def load_autoencoder(path: PathLike, backend: Optional[str] = None) -> StackedAutoencoder:
    """Load a StackedAutoencoder saved by :func:`save_autoencoder` onto ``backend``.

    Parameters
    ----------
    path : str or Path
        The file.
    backend : {"numpy", "cupy"}, optional
        None means ``$DEC_NP_BACKEND``, else numpy, whatever backend saved it.

    Returns
    -------
    StackedAutoencoder
        With the saved settings, weights and ``history_``.

    Raises
    ------
    FileNotFoundError
        When there is no such file.
    ValueError
        Naming the file, for one that is damaged, of another kind, or whose metadata do not
        match its weights (checked before anything is allocated).
    """
    meta, arrays = _read(path, "autoencoder")
    return _sae_from(meta.get("autoencoder", {}), arrays, backend, path)


# ----------------------------------------------------------------------------- DEC
def _dec_params(model):
    """The estimator's constructor arguments as JSON values (not the autoencoder object)."""
    out = {}
    for name in inspect.signature(type(model).__init__).parameters:
        if name in ("self", "autoencoder") or not hasattr(model, name):
            continue
        v = getattr(model, name)
        if name == "random_state" and not isinstance(v, (int, np.integer, type(None))):
            v = None  # a Generator has no JSON form; the fitted arrays do not need it
        out[name] = list(v) if isinstance(v, tuple) else v
    return out


def save_dec(model: Any, path: PathLike) -> Path:
    """Save a fitted DEC: encoder and decoder weights, centres ``mu``, ``scale_``, ``labels_``,
    ``init_labels_``, ``init_centers_``, ``history_`` and the hyper-parameters.

    Parameters
    ----------
    model : DEC
        A fitted estimator.
    path : str or Path
        The ``.npz`` to write (atomically, parent folders created).

    Returns
    -------
    Path
        ``path``.
    """
    model._check_fitted()
    arrays = {"sae/" + k: v for k, v in model.autoencoder_.params.items()}
    arrays.update(mu=model._mu, labels=model.labels_, init_labels=model.init_labels_,
                  init_centers=model.init_centers_)
    meta = {"params": _dec_params(model), "autoencoder": _sae_meta(model.autoencoder_),
            "scale": model.scale_, "n_iter": getattr(model, "n_iter_", None),
            "history": model.history_, "pretrain_time": getattr(model, "pretrain_time_", None),
            "fit_time": getattr(model, "fit_time_", None)}
    return _write(path, "dec", arrays, meta)


def _check_param_types(kw, known, path):
    """Each saved setting has the JSON type of its constructor default (ValueError if not)."""
    for name, v in kw.items():
        default = known[name].default
        if name == "backend" or default is inspect.Parameter.empty:
            continue
        if name == "image_shape":  # None or (H, W)
            ok = v is None or (isinstance(v, tuple) and len(v) == 2 and all(
                isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in v))
            if not ok:
                raise ValueError(f"{path}: the setting image_shape={v!r} is not None or (H, W)")
            continue
        if name == "max_iter":  # "auto" or a count
            if not (v == "auto" or (isinstance(v, int) and not isinstance(v, bool))):
                raise ValueError(f"{path}: the setting max_iter={v!r} is not 'auto' or a count")
            continue
        if name == "augment":  # "auto", None, {"mask": p}, {"neighbours": k}, or {"shift": f}
            def number(x):
                return isinstance(x, (int, float)) and not isinstance(x, bool)
            ok = v is None or v == "auto" or (
                isinstance(v, dict) and set(v) == {"neighbours"}
                and isinstance(v["neighbours"], int) and not isinstance(v["neighbours"], bool)
                and v["neighbours"] >= 1) or (
                isinstance(v, dict) and {"shift"} <= set(v) <= {"shift", "rotate"}
                and number(v["shift"]) and 0 < v["shift"] < 0.5
                and number(v.get("rotate", 0)) and 0 <= v.get("rotate", 0) <= 180) or (
                isinstance(v, dict) and set(v) == {"mask"} and number(v["mask"])
                and 0 < v["mask"] < 1)
            if not ok:
                raise ValueError(f"{path}: the setting augment={v!r} is not 'auto', None, "
                                 '{"mask": p}, {"neighbours": k} or {"shift": fraction} with '
                                 'an optional "rotate": degrees')
            continue
        if isinstance(default, bool):
            ok = isinstance(v, bool)
        elif isinstance(default, int):
            ok = isinstance(v, int) and not isinstance(v, bool)
        elif isinstance(default, float):
            ok = isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)
        elif isinstance(default, tuple):
            ok = isinstance(v, tuple) and all(isinstance(d, int) and not isinstance(d, bool)
                                              and d > 0 for d in v)
        elif isinstance(default, str):
            ok = v is None or isinstance(v, (str, dict))  # schedule dicts, input_scaling None
        else:
            ok = v is None or (isinstance(v, (int, str)) and not isinstance(v, bool))
        if not ok:
            raise ValueError(f"{path}: the setting {name}={v!r} has the wrong type "
                             f"(expected one like {default!r})")


def read_dec(path: PathLike, cls: type, backend: Optional[str] = None) -> Any:
    """Rebuild a fitted estimator of class ``cls`` (:class:`dec_np.DEC`) from a file written by
    :func:`save_dec`; :func:`dec_np.dec.load_dec` is this with ``cls=DEC``.

    Parameters
    ----------
    path : str or Path
        The file.
    cls : type
        The estimator class to build (its constructor's parameters are the ones read).
    backend : {"numpy", "cupy"}, optional
        Where the model lives; None: ``$DEC_NP_BACKEND``, else numpy.

    Returns
    -------
    DEC
        Fitted: ``predict``, ``transform`` and ``predict_proba`` work at once.

    Raises
    ------
    ValueError
        Naming the file, for a damaged file, settings of the wrong type, or arrays that do
        not fit the settings.
    """
    meta, arrays = _read(path, "dec")
    known = inspect.signature(cls).parameters  # the constructor's, without self
    kw = {k: v for k, v in meta.get("params", {}).items() if k in known and k != "autoencoder"}
    for name in ("hidden_dims", "image_shape"):  # tuples come back from JSON as lists
        if isinstance(kw.get(name), list):
            kw[name] = tuple(kw[name])
    kw["backend"] = backend
    try:
        model = cls(**kw)
    except TypeError as exc:
        raise ValueError(f"{path}: unusable DEC settings ({exc})") from None
    sae = _sae_from(meta.get("autoencoder", {}), arrays, backend, path)
    try:
        mu, labels = arrays["mu"], arrays["labels"]
        model.init_labels_, model.init_centers_ = arrays["init_labels"], arrays["init_centers"]
        model.scale_, model.history_ = _number(meta, "scale", path), meta["history"]
    except KeyError as exc:
        raise ValueError(f"{path}: the checkpoint lacks {exc}") from None
    k = model.n_clusters
    if not isinstance(k, int) or isinstance(k, bool) or mu.shape != (k, sae.dims[-1]):
        raise ValueError(f"{path}: centres of shape {mu.shape} do not fit n_clusters={k!r} "
                         f"in a {sae.dims[-1]}-d embedding")
    if not model.scale_ > 0:
        raise ValueError(f"{path}: the input scale {model.scale_} is not positive")
    for name, a in (("labels", labels), ("init_labels", model.init_labels_)):
        if a.ndim != 1 or a.dtype.kind not in "iu" or (a.size and not 0 <= a.min() <= a.max() < k):
            raise ValueError(f"{path}: {name} are not cluster numbers in [0, {k})")
    _check_param_types(kw, known, path)
    if not model.alpha > 0:
        raise ValueError(f"{path}: alpha={model.alpha!r} is not positive")
    with np.errstate(over="ignore"):
        model.autoencoder_, model._mu = sae, to_device(mu, sae.xp, sae.dtype)
    if not bool(sae.xp.isfinite(model._mu).all()):
        raise ValueError(f"{path}: the centres mu overflow {sae.dtype}")
    model.cluster_centers_, model.labels_ = asnumpy(mu).copy(), labels
    model.n_iter_ = meta.get("n_iter")
    if model.n_iter_ is not None and (not isinstance(model.n_iter_, int) or model.n_iter_ < 0):
        raise ValueError(f"{path}: metadata 'n_iter' is {model.n_iter_!r}, not a count")
    model.pretrain_time_ = _number(meta, "pretrain_time", path, none=True)
    model.fit_time_ = _number(meta, "fit_time", path, none=True)
    return model


# ----------------------------------------------------------------------------- resumable fits
class FitCheckpoint:
    """Saves a DEC fit's state for :meth:`DEC.fit` (``checkpoint_path=``), as a context manager.

    ``at_iteration`` runs at the top of every iteration of the clustering loop.  It saves at a target update when at
    least ``every`` seconds passed since the last save (the first update always saves), and
    after a Ctrl-C: inside the block the first SIGINT only sets ``requested`` (a second one
    raises at once), so the state saved is consistent; then it raises KeyboardInterrupt.
    The SIGINT handler is installed only in the main thread, and only when SIGINT is not
    ignored (a process started with it ignored, as by ``nohup cmd &``, runs on); the previous
    handler is restored on exit.

    Parameters
    ----------
    path : str or Path
        Where the state is saved (:func:`save_fit_state`).
    every : float, optional
        Seconds at least between two periodic saves; default :attr:`EVERY`.
    """

    EVERY = 10.0  # seconds: saving the paper's network takes ~0.1 s, a GPU's 140 steps not much more

    def __init__(self, path: PathLike, every: Optional[float] = None) -> None:
        self.path, self.every = path, float(self.EVERY if every is None else every)
        self.requested, self._old = False, None
        self.last: Optional[float] = None

    def __enter__(self):
        # A process started with SIGINT ignored (``nohup cmd &``) keeps ignoring it.
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) is not signal.SIG_IGN):
            self._old = signal.getsignal(signal.SIGINT) or signal.default_int_handler
            signal.signal(signal.SIGINT, self._handler)
        return self

    def _handler(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("\ninterrupted: saving a checkpoint after this iteration (Ctrl-C again to stop "
              "at once)", file=sys.stderr, flush=True)

    def __exit__(self, *exc):
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)
        return False

    def at_iteration(self, model: Any, it: int, mu: Any, opt: Any, stream: Any,
                     labels_prev: Any, history: dict, p: Any, neighbours: Any = None) -> None:
        """Save the state at the top of iteration ``it`` if due; raise KeyboardInterrupt if asked.

        Parameters
        ----------
        model : DEC
            The estimator being fitted.
        it : int
            The iteration about to run.
        mu : ndarray of shape (n_clusters, n_embedding)
            The current centres.
        opt : SGD
            DEC's optimiser (its velocities and step count are saved).
        stream : BatchStream
            The mini-batch order (its state is saved).
        labels_prev : ndarray of shape (n_samples,) or None
            The labels at the last target update.
        history : dict
            The fit's history so far.
        p : ndarray of shape (n_samples, n_clusters)
            The current target distribution (saved unless ``it`` is an update iteration).
        neighbours : ndarray of shape (n_samples, k), optional
            Each point's neighbours, with ``augment={"neighbours": k}``.

        Raises
        ------
        KeyboardInterrupt
            After saving, when a Ctrl-C arrived.
        """
        at_update = it % model.update_interval == 0
        now = time.monotonic()
        due = at_update and (self.last is None or now - self.last >= self.every)
        if due or self.requested:
            save_fit_state(self.path, model, it, mu, opt, stream, labels_prev, history,
                           None if at_update else p, neighbours)
            self.last = now
        if self.requested:
            raise KeyboardInterrupt(f"DEC interrupted; resume with "
                                    f"fit(..., resume_from={str(self.path)!r})")


def save_fit_state(path: PathLike, model: Any, it: int, mu: Any, opt: Any, stream: Any,
                   labels_prev: Any, history: dict, p: Any = None,
                   neighbours: Any = None) -> Path:
    """Save an unfinished DEC fit at the top of iteration ``it``.

    Parameters
    ----------
    path : str or Path
        The ``.npz`` to write (atomically).
    model : DEC
        The estimator being fitted (settings, autoencoder, initial labels and centres).
    it : int
        The iteration about to run.
    mu : ndarray of shape (n_clusters, n_embedding)
        The current centres.
    opt : SGD
        DEC's optimiser: velocities and step count.
    stream : BatchStream
        The mini-batch order.
    labels_prev : ndarray of shape (n_samples,) or None
        The labels at the last target update.
    history : dict
        The fit's history so far.
    p : ndarray of shape (n_samples, n_clusters), optional
        The current target, needed unless ``it`` is a target-update iteration.
    neighbours : ndarray of shape (n_samples, k), optional
        Each point's neighbours in the embedding at the start of the clustering phase,
        needed with ``augment={"neighbours": k}`` (the encoder has moved since).

    Returns
    -------
    Path
        ``path``.
    """
    arrays = {"sae/" + k: v for k, v in model.autoencoder_.params.items()}
    arrays.update({"velocity/" + k: v for k, v in opt.velocity.items()})
    arrays.update(mu=mu, init_labels=model.init_labels_, init_centers=model.init_centers_)
    if labels_prev is not None:
        arrays["labels_prev"] = labels_prev
    if p is not None:
        arrays["p"] = p
    if neighbours is not None:
        arrays["neighbours"] = neighbours
    meta = {"params": _dec_params(model), "autoencoder": _sae_meta(model.autoencoder_),
            "iteration": int(it), "opt_t": opt.t, "stream": stream.state(), "history": history,
            "scale": model.scale_, "pretrain_time": model.pretrain_time_}
    return _write(path, "dec-fit-state", arrays, meta)


def load_fit_state(path: PathLike, model: Any, X: Any) -> "dict[str, Any]":
    """Read a state saved by :func:`save_fit_state` for ``model.fit(X)`` to continue from.

    Checks that the settings in :data:`RESUME_MUST_MATCH` and the data (shape and input
    scale) agree with the interrupted fit.

    Parameters
    ----------
    path : str or Path
        The saved state.
    model : DEC
        The estimator about to continue (its settings, backend and ``scale_``).
    X : ndarray of shape (n_samples, n_features)
        The data it is fitted on.

    Returns
    -------
    dict
        autoencoder, mu, velocity, iteration, opt_t, stream, labels_prev, history, p,
        neighbours, init_labels, init_centers, pretrain_time (arrays on the model's backend).

    Raises
    ------
    ValueError
        When the state is damaged, or was written by a fit with other settings or data.
    """
    meta, arrays = _read(path, "dec-fit-state")
    saved, here = meta.get("params", {}), _dec_params(model)
    diff = [f"{k}={saved.get(k)!r} there, {here.get(k)!r} here"
            for k in RESUME_MUST_MATCH if saved.get(k) != here.get(k)]
    if diff:
        raise ValueError(f"{path} was written by a fit with other settings: " + "; ".join(diff))
    sae = _sae_from(meta.get("autoencoder", {}), arrays, model.backend, path)
    if sae.dims[0] != X.shape[1] or len(arrays.get("init_labels", ())) != X.shape[0]:
        raise ValueError(f"{path} was written for data of shape "
                         f"({len(arrays.get('init_labels', ()))}, {sae.dims[0]}), not {X.shape}")
    if not np.isclose(meta.get("scale", np.nan), model.scale_, rtol=1e-6):
        raise ValueError(f"{path} was written for other data (input scale {meta.get('scale')} "
                         f"there, {model.scale_} here)")
    _check_fit_state(meta, arrays, model.n_clusters, sae.dims[-1], X.shape[0], path)
    nbr = arrays.get("neighbours")
    if nbr is not None and not (nbr.ndim == 2 and nbr.shape[0] == X.shape[0] and nbr.size
                                and nbr.dtype.kind in "iu" and 0 <= nbr.min()
                                and nbr.max() < X.shape[0]):
        raise ValueError(f"{path}: the saved neighbours are not row indices of shape "
                         f"({X.shape[0]}, k)")
    dev = lambda a: None if a is None else to_device(a, sae.xp, sae.dtype)
    return {"autoencoder": sae, "mu": dev(arrays["mu"]), "p": dev(arrays.get("p")),
            "velocity": {k.split("/", 1)[1]: dev(v) for k, v in arrays.items()
                         if k.startswith("velocity/")},
            "neighbours": None if nbr is None else sae.xp.asarray(nbr.astype(np.int64)),
            "iteration": meta["iteration"], "opt_t": meta["opt_t"], "stream": meta["stream"],
            "history": meta["history"], "labels_prev": arrays.get("labels_prev"),
            "init_labels": arrays["init_labels"], "init_centers": arrays["init_centers"],
            "pretrain_time": meta.get("pretrain_time", 0.0)}


def _check_fit_state(meta, arrays, k, d, n, path):
    """A saved fit state has every entry, of the right type and shape (ValueError if not)."""
    missing = [key for key in ("iteration", "opt_t", "stream", "history") if key not in meta]
    missing += [key for key in ("mu", "init_labels", "init_centers") if key not in arrays]
    if missing:
        raise ValueError(f"{path}: the saved state lacks {', '.join(missing)}")
    count = lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0
    stream, history = meta["stream"], meta["history"]
    if not (count(meta["iteration"]) and count(meta["opt_t"]) and isinstance(stream, dict)
            and isinstance(stream.get("rng"), dict) and count(stream.get("epoch"))
            and count(stream.get("pos")) and isinstance(history, dict)
            and isinstance(history.get("loss"), list)):
        raise ValueError(f"{path}: the saved iteration, step count, batch order or history "
                         "has the wrong type")
    shapes = {"mu": (k, d), "init_centers": (k, d), "init_labels": (n,), "p": (n, k),
              "labels_prev": (n,)}
    for key, shape in shapes.items():
        if key in arrays and arrays[key].shape != shape:
            raise ValueError(f"{path}: the saved {key} has shape {arrays[key].shape}, "
                             f"expected {shape}")


def resume_loop(state: "dict[str, Any]", opt: Any, history: dict) -> "tuple[int, Any, Any]":
    """Put a state from :func:`load_fit_state` back into the clustering loop's optimiser and
    history (in place).

    Parameters
    ----------
    state : dict
        As :func:`load_fit_state` returns it.
    opt : SGD
        The loop's optimiser; its velocities and step count are replaced.
    history : dict
        The loop's history; each list is replaced by the saved one.

    Returns
    -------
    iteration : int
        The iteration to continue at.
    labels_prev : ndarray of shape (n_samples,) or None
        The labels at the last target update.
    p : ndarray of shape (n_samples, n_clusters) or None
        The target to continue with (None: computed afresh at an update iteration).
    """
    opt.velocity, opt.t = state["velocity"], state["opt_t"]
    saved = state["history"]
    for k in history:
        history[k] = saved.get(k, [float("nan")] * len(saved["loss"]))
    return state["iteration"], state["labels_prev"], state["p"]

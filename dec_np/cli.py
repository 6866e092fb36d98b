"""The ``dec-np`` command (also ``python -m dec_np``): demo, fit, pretrain, evaluate, gradcheck, select-k.

Each subcommand is a small function of the parsed arguments; the helpers they share
(loading data, pretraining, scoring, the generalizability of a fit) are public so that
``benchmarks/experiments.py`` reuses them.  A user mistake is one line on stderr and exit 1.

An ``--out`` folder holds one run (:mod:`dec_np.runs`): checked writable before any work,
locked while in use, results moved in as one set, resumed only by the run that saved it.
The arguments, their help and their checks are in :mod:`dec_np.cli_args`.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import (Any, Callable, Iterable, Iterator, Mapping, Optional, Sequence, Tuple,
                    Union)

import numpy as np

from .autoencoder import StackedAutoencoder
from .backend import DEFAULT_DTYPE, asnumpy, get_backend
from . import cli_args
from .cli_args import _dims  # noqa: F401  (benchmarks import it from here)
from .checkpoint import data_fingerprint, load_autoencoder, save_autoencoder, save_dec
from .datasets import load_dataset, load_digits, load_labels
from .gradcheck import check_all
from .dec import DEC, _validate as _check_dec, clustering_settings, load_dec
from .dec_math import kl_divergence, target_distribution
from .metrics import ari, cluster_accuracy, nmi
from .scaling import input_scale_factor
from .threads import host_threads
from .runs import STATE, STATE_ID, RunFolder, metrics_record, resume_or_fresh, run_identity
from .schedules import default_name, describe, get_schedule, run_schedule, with_lr

PathLike = Union[str, "os.PathLike[str]"]
IMAGE_SHAPES = {"mnist": (28, 28), "mnist-test": (28, 28), "fashion-mnist": (28, 28),
                "usps": (16, 16), "digits": (8, 8)}
#: The demo: embedded digits, a smaller network and shorter schedules than the paper's
#: (measured on 2 CPU cores, see ``demo``); "fast" is the hidden test-suite setting.
DEMO: "dict[str, dict[str, Any]]" = {
    "full": dict(hidden_dims=(64, 64, 128, 10), max_iter=1000, update_interval=100,
                 schedule={"model": {"p_drop": 0.2, "init_std": 0.01, "loss_reduction": "batch"},
                           "layerwise": {"epochs": 20, "batch_size": 64, "lr": 0.01},
                           "finetune": {"epochs": 40, "batch_size": 64, "lr": 0.01}}),
    "fast": dict(hidden_dims=(32, 10), max_iter=40, update_interval=20, n_init=2,
                 schedule={"model": {"p_drop": 0.1, "init_std": 0.01, "loss_reduction": "batch"},
                           "layerwise": {"epochs": 5, "batch_size": 64, "lr": 0.01},
                           "finetune": {"epochs": 10, "batch_size": 64, "lr": 0.01}}),
}


_QUIET = [False]  # set by main from --quiet


def say(*parts: object) -> None:
    """Progress for people: stderr, flushed, so stdout stays the results (silent with --quiet).

    Parameters
    ----------
    *parts : object
        Printed as :func:`print` prints them.
    """
    if not _QUIET[0]:
        print(*parts, file=sys.stderr, flush=True)


def note(*parts: object) -> None:
    """A notice the user must see even with --quiet (something was discarded or taken over).

    Parameters
    ----------
    *parts : object
        Printed after ``dec-np: note:`` on stderr.
    """
    print("dec-np: note:", *parts, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- shared helpers
def load_data(name: PathLike, data_dir: Optional[PathLike] = None,
              labels: Optional[PathLike] = None, n_samples: Optional[int] = None,
              seed: int = 0, progress: bool = True
              ) -> Tuple[np.ndarray, Optional[np.ndarray], Optional[Tuple[int, int]]]:
    """Load a data set or file for a command.

    Parameters
    ----------
    name : str
        A data set name or a ``.npy`` / ``.npz`` path (see :func:`~dec_np.datasets.load_dataset`).
    data_dir : str or Path, optional
        Where the named data sets live.
    labels : str or Path, optional
        The true labels (a ``.npy``, or a text table with one per line:
        :func:`~dec_np.datasets.load_labels`), replacing the data set's own.
    n_samples : int, optional
        Keep a random subset of this many rows (in their original order).
    seed : int
        Seeds the subset.
    progress : bool
        Report downloads on stderr.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float32
        The data.
    y : ndarray of shape (n_samples,), int64, or None
        The true labels, if known.
    image_shape : tuple (h, w) or None
        The image shape of a named image data set, or of square rows; else None.
    """
    X, y = load_dataset(name, data_dir=data_dir, progress=progress)
    if labels is not None:
        y = load_labels(labels, len(X))
    if y is not None and len(y) != len(X):
        raise ValueError(f"{len(X)} samples but {len(y)} labels")
    if n_samples is not None and n_samples < 1:
        raise ValueError(f"--n-samples must be positive, got {n_samples}")
    if n_samples is not None and n_samples < len(X):
        keep = np.sort(np.random.default_rng(seed).choice(len(X), n_samples, replace=False))
        X, y = X[keep], None if y is None else y[keep]
    side = int(round(np.sqrt(X.shape[1])))
    shape = IMAGE_SHAPES.get(str(name).lower(), (side, side) if side * side == X.shape[1] else None)
    return X, y, shape


def dec_input(X: Any, schedule: Union[str, dict] = "default",
              images: bool = False) -> np.ndarray:
    """X scaled as ``DEC(schedule=schedule)`` scales it (the schedule's input_scaling).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The data.
    schedule : str or dict
        A schedule name or dict (:func:`~dec_np.schedules.get_schedule`).
    images : bool, default False
        Whether the rows are images ("default" then names the images' schedule).

    Returns
    -------
    ndarray of shape (n_samples, n_features), float32
        ``X`` times the schedule's input scale factor.
    """
    scale = input_scale_factor(asnumpy(X), get_schedule(schedule, images)["input_scaling"])
    return np.asarray(X, DEFAULT_DTYPE) * DEFAULT_DTYPE(scale)


def pretrain(X: Any, hidden_dims: Sequence[int], schedule: Union[str, dict],
             backend: Optional[str] = None, seed: int = 0, verbose: bool = True,
             image_shape: Optional[Tuple[int, int]] = None) -> StackedAutoencoder:
    """Pretrain a StackedAutoencoder on ``dec_input(X, schedule)`` with ``schedule``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The data (scaled here as DEC scales it).
    hidden_dims : sequence of int
        Encoder widths after the input.
    schedule : str or dict
        The pretraining schedule.
    backend : {"numpy", "cupy"}, optional
        Where to train.
    seed : int
        Seeds the weights, dropout and mini-batches.
    verbose : bool
        Progress lines on stderr.
    image_shape : tuple (h, w), optional
        As in :func:`~dec_np.schedules.run_schedule` (schedules that shift images).

    Returns
    -------
    StackedAutoencoder
        Pretrained.
    """
    images = image_shape is not None
    s = get_schedule(schedule, images)
    sae = StackedAutoencoder((X.shape[1],) + tuple(hidden_dims), backend=backend,
                             random_state=seed, **s["model"])
    return run_schedule(sae, dec_input(X, schedule, images), s, verbose, image_shape)


def augment_shape(args: argparse.Namespace) -> Optional[Tuple[int, ...]]:
    """The image shape pretraining may shift.

    Parameters
    ----------
    args : argparse.Namespace
        The command line (``image_shape``, ``dataset``).

    Returns
    -------
    tuple (h, w) or None
        --image-shape, else that of a named image data set; None for a data file without
        --image-shape (its rows are not assumed to be images).
    """
    if getattr(args, "image_shape", None) is not None:
        return args.image_shape
    return IMAGE_SHAPES.get(str(args.dataset).lower())


def scores(y: Any, labels: Any) -> "Optional[dict[str, float]]":
    """Unsupervised accuracy, NMI and ARI of ``labels`` against ``y``.

    Parameters
    ----------
    y : ndarray of shape (n_samples,) or None
        True labels.
    labels : ndarray of shape (n_samples,)
        Cluster labels.

    Returns
    -------
    dict or None
        ``{"acc", "nmi", "ari"}``; None without ``y``.
    """
    if y is None:
        return None
    return {"acc": cluster_accuracy(y, labels), "nmi": nmi(y, labels), "ari": ari(y, labels)}


def mean_kl(model: DEC, X: Any) -> float:
    """L = KL(P||Q) / n over the points of X, with P the target of the model's q on X.

    Parameters
    ----------
    model : DEC
        A fitted estimator.
    X : ndarray of shape (n_samples, n_features)
        The points.

    Returns
    -------
    float
        The mean KL divergence per point (paper Eq. 2-3; Sec. 5.5's L).
    """
    q = model.predict_proba(X)
    return kl_divergence(target_distribution(q), q) / len(X)


def select_k(X_train: Any, X_val: Any, ks: Iterable[int], make_model: Callable[[int], DEC],
             y_train: Any = None, y_val: Any = None) -> "list[dict[str, Any]]":
    """For each k: fit ``make_model(k)`` on X_train; G = L_train / L_validation and NMI.

    Parameters
    ----------
    X_train : ndarray of shape (n_train, n_features)
        Where each model is fitted.
    X_val : ndarray of shape (n_val, n_features)
        The held-out points of L_val.
    ks : iterable of int
        The numbers of clusters to try.
    make_model : callable
        ``make_model(k)`` returns an unfitted DEC with k clusters.
    y_train : ndarray of shape (n_train,), optional
        True labels of X_train (for NMI and ACC).
    y_val : ndarray of shape (n_val,), optional
        True labels of X_val (for NMI).

    Returns
    -------
    list of dict
        One per k: k, L_train, L_val, G, and with labels nmi_train, acc_train, nmi_val.
    """
    rows = []
    for k in ks:
        model = make_model(k).fit(X_train, y_train)
        l_train, l_val = mean_kl(model, X_train), mean_kl(model, X_val)
        row = {"k": int(k), "L_train": l_train, "L_val": l_val, "G": l_train / l_val}
        if y_train is not None:
            row.update(nmi_train=nmi(y_train, model.labels_),
                       acc_train=cluster_accuracy(y_train, model.labels_))
        if y_val is not None:
            row["nmi_val"] = nmi(y_val, model.predict(X_val))
        say(f"select-k: k={k}  G={row['G']:.4f}  NMI={row.get('nmi_train', float('nan')):.4f}")
        rows.append(row)
    return rows


def markdown_table(rows: "Sequence[Mapping[str, Any]]", columns: Sequence[str]) -> str:
    """A markdown table of ``rows``.

    Parameters
    ----------
    rows : list of dict
        One dict per row; a missing key is an empty cell.
    columns : list of str
        The keys shown, in order.

    Returns
    -------
    str
        The table, floats with 4 decimals.
    """
    fmt = lambda v: f"{v:.4f}" if isinstance(v, float) else str(v)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def figures(out: PathLike, model: Optional[DEC] = None, X: Any = None, y: Any = None,
            image_shape: Optional[Tuple[int, int]] = None,
            sae: Optional[StackedAutoencoder] = None, Z_ae: Any = None) -> "list[str]":
    """Write the figures that apply into ``out`` with :mod:`dec_np.plotting`.

    A figure that fails is skipped with a line on stderr: figures never cost the results.

    Parameters
    ----------
    out : str or Path
        The folder to write into.
    model : DEC, optional
        A fitted model (training curves; with ``y``, the confusion matrix; with
        ``image_shape``, examples per cluster; with ``Z_ae`` and ``y``, the embeddings).
    X : ndarray of shape (n_samples, n_features), optional
        The data.
    y : ndarray of shape (n_samples,), optional
        True labels.
    image_shape : tuple (h, w), optional
        The shape of one image, if the rows are images.
    sae : StackedAutoencoder, optional
        Its ``history_`` gives the pretraining loss figure.
    Z_ae : ndarray of shape (n_samples, n_embedding), optional
        The autoencoder's embedding before DEC.

    Returns
    -------
    list of str
        The names of the files written.
    """
    try:
        from . import plotting
    except ImportError as exc:
        say(f"figures skipped: dec_np.plotting is not available ({exc})")
        return []
    jobs = []
    if sae is not None and sae.history_:
        jobs.append(("autoencoder_loss.png", lambda p: plotting.plot_loss_history(sae.history_, p)))
    if model is not None:
        jobs.append(("training_curves.png",
                     lambda p: plotting.plot_training_curves(model.history_, p)))
        if y is not None:
            jobs.append(("confusion.png", lambda p: plotting.plot_confusion(y, model.labels_, p)))
        if image_shape is not None:
            jobs.append(("cluster_examples.png", lambda p: plotting.plot_cluster_examples(
                X, model.predict_proba(X), image_shape, path=p)))
        if Z_ae is not None and y is not None:
            jobs.append(("embedding.png", lambda p: plotting.plot_embedding_stages(
                [Z_ae, model.transform(X)], y, ["autoencoder", "DEC"], path=p)))
    written = []
    for name, draw in jobs:
        try:
            draw(Path(out) / name)
            written.append(name)
        except Exception as exc:  # a figure is a by-product: never lose the results for it
            say(f"figure {name} skipped: {type(exc).__name__}: {exc}")
    return written


@contextlib.contextmanager
def blas_threads(n: Optional[int]) -> Iterator[None]:
    """Limit the CPU BLAS to ``n`` threads inside the block (needs threadpoolctl; None: no limit).

    The demo's matrices are small: two OpenBLAS threads made it 90 times slower than one on a
    busy 2-core machine (145 s against 1.6 s), so the demo asks for one.

    Parameters
    ----------
    n : int or None
        Threads; None leaves BLAS as it is.

    Yields
    ------
    None
    """
    if n is None:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]
    except ImportError:
        say("note: `pip install threadpoolctl` to set the number of BLAS threads")
        yield
        return
    with threadpool_limits(limits=n, user_api="blas"):
        yield


def _fast(args):
    return getattr(args, "fast", False) or os.environ.get("DEC_NP_FAST", "0") not in ("", "0")


# ----------------------------------------------------------------------------- subcommands
def _schedule(args, name):
    """The schedule ``name`` (or dict) with --pretrain-lr and --input-scaling applied."""
    lr, scaling = getattr(args, "pretrain_lr", None), getattr(args, "input_scaling", None)
    if lr is None and scaling is None:
        return name
    s = with_lr(name, lr, images=augment_shape(args) is not None)
    if scaling is not None:
        s["input_scaling"] = None if scaling == "none" else scaling
    return s


def _pretrain_hint(exc):
    return FloatingPointError(f"{exc}; on the command line: --pretrain-lr sets the pretraining "
                              "learning rate, --input-scaling the input scaling")


def _fit_and_report(args, X, y, image_shape, settings, title, run):
    """Shared by demo and fit: pretrain (or load), DEC, then labels, metrics, model, figures."""
    settings = dict(settings, schedule=_schedule(args, settings["schedule"]))
    loaded = None
    if getattr(args, "autoencoder", None):
        loaded = load_autoencoder(args.autoencoder, backend=args.backend)
        if loaded.dims[0] != X.shape[1]:
            raise ValueError(f"{args.autoencoder} expects {loaded.dims[0]} features, the data "
                             f"have {X.shape[1]}")
        settings["hidden_dims"] = loaded.dims[1:]
    # bad settings fail before pretraining
    _check_dec(DEC(args.n_clusters, n_jobs=args.jobs, **settings), X)
    identity = run_identity(args, X, y, settings)
    resume = resume_or_fresh(args, run, identity)
    out = run.create()  # validated: from here on the folder exists and is ours
    state = out / STATE  # saved at every target update and on Ctrl-C
    if resume is None:
        with contextlib.suppress(FileNotFoundError):
            state.unlink()
        tmp = out / f".{STATE_ID}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(identity, indent=1) + "\n")
        os.replace(tmp, out / STATE_ID)
    say(f"{title}: {X.shape[0]} points, {X.shape[1]} features, k={args.n_clusters}")
    t0 = time.perf_counter()
    if resume is not None:
        sae = None  # the state holds the autoencoder as DEC left it
        say(f"resuming from {state}")
    elif loaded is not None:
        sae = loaded
    else:
        images = settings.get("image_shape") is not None
        shifted = images and get_schedule(settings["schedule"], images).get("augment")
        name = settings["schedule"] if isinstance(settings["schedule"], str) else "a dict"
        if name == "default":
            name = f"default ({default_name(images)})"
        say(f"pretraining the autoencoder {X.shape[1]}-"
            f"{'-'.join(map(str, settings['hidden_dims']))}: schedule {name}, "
            f"{'images shifted' if shifted else 'no shifts'}; on {X.shape[0]:,} rows "
            f"{describe(get_schedule(settings['schedule'], images), X.shape[0])} ...")
        try:
            sae = pretrain(X, settings["hidden_dims"], settings["schedule"], args.backend,
                           args.seed, not args.quiet, settings.get("image_shape"))
        except FloatingPointError as exc:
            raise _pretrain_hint(exc) from None
    t_pre = time.perf_counter() - t0
    model = DEC(args.n_clusters, autoencoder=sae, backend=args.backend, random_state=args.seed,
                verbose=not args.quiet, n_jobs=args.jobs, **settings)
    augment, max_iter = clustering_settings(model)
    phase = f"{_phase(augment)}, at most {max_iter} iterations"
    say(f"k-means on the embedding, then {phase} ..." if resume is None else f"{phase} ...")
    try:
        # after the command's own pretraining, k-means and DEC go on drawing from the
        # generator it left, as DEC(random_state=seed).fit(X) does: the same numbers
        model.fit(X, y, checkpoint_path=state, resume_from=resume,
                  generator=None if sae is None or loaded is not None else sae.rng)
    except FloatingPointError as exc:
        raise FloatingPointError(f"{exc}; on the command line: --lr sets DEC's learning rate, "
                                 "--input-scaling the input scaling") from None
    t_total = time.perf_counter() - t0
    result = metrics_record(
        command=args.command, dataset=str(args.dataset), data=identity["data"],
        n_samples=int(X.shape[0]), n_features=int(X.shape[1]), n_clusters=int(args.n_clusters),
        model="model.npz", seed=args.seed, hidden_dims=list(model.autoencoder_.dims[1:]),
        n_iter=model.n_iter_, mean_kl=mean_kl(model, X),
        cluster_sizes=np.bincount(model.labels_, minlength=args.n_clusters).tolist(),
        dec=scores(y, model.labels_), ae_kmeans=scores(y, model.init_labels_),
        times_s={"pretrain": t_pre, "dec": model.fit_time_, "total": t_total})
    with run.results() as new:
        np.save(new / "labels.npy", model.labels_)
        save_dec(model, new / "model.npz")
        (new / "metrics.json").write_text(json.dumps(result, indent=2) + "\n")
        Z_ae = (None if sae is None or y is None or args.no_figures else asnumpy(
            sae.encode(np.asarray(X, DEFAULT_DTYPE) * DEFAULT_DTYPE(model.scale_))))
        names = [] if args.no_figures else figures(new, model, X, y, image_shape,
                                                   sae or model.autoencoder_, Z_ae)
    for name in (STATE, STATE_ID):  # finished: nothing left to resume
        with contextlib.suppress(FileNotFoundError):
            (out / name).unlink()
    for row, key in (("AE + k-means", "ae_kmeans"), ("DEC", "dec")):
        if result[key]:
            s = result[key]
            print(f"{row:<13} ACC {s['acc']:.4f}  NMI {s['nmi']:.4f}  ARI {s['ari']:.4f}")
    print(f"time: {t_total:.1f} s (pretraining {t_pre:.1f} s), {model.n_iter_} DEC iterations")
    print(f"wrote {out}/: labels.npy, metrics.json, model.npz" +
          (", " + ", ".join(names) if names else ""))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """``dec-np demo``: DEC on the embedded digits, results into --out.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        The exit status (0: done).
    """
    with RunFolder(args.out, "demo", say=say, note=note) as run:
        X, y = load_digits()
        settings = dict(DEMO["fast" if _fast(args) else "full"])
        if args.max_iter is not None:
            settings["max_iter"] = args.max_iter
        args.dataset, args.n_clusters, args.autoencoder = "digits", 10, None
        return _fit_and_report(args, X, y, (8, 8), settings, "demo (UCI digits)", run)


def cmd_fit(args: argparse.Namespace) -> int:
    """``dec-np fit``: pretrain (or load) an autoencoder, then DEC; results into --out.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        The exit status (0: done).
    """
    with RunFolder(args.out, "fit", say=say, note=note) as run:
        X, y, shape = load_data(args.dataset, args.data_dir, args.labels, args.n_samples,
                                args.seed, not args.quiet)
        settings = {k: v for k, v in dict(
            hidden_dims=args.hidden_dims, schedule=args.schedule, max_iter=args.max_iter,
            update_interval=args.update_interval, lr=args.lr, batch_size=args.batch_size,
            tol=args.tol, n_init=args.n_init).items() if v is not None}
        if _fast(args):
            settings = dict(DEMO["fast"], **{k: v for k, v in settings.items() if k != "schedule"})
        settings.setdefault("hidden_dims", (500, 500, 2000, 10))
        settings.setdefault("schedule", "default")
        images = augment_shape(args)  # the shape pretraining may shift; None: not images
        if images is not None:
            settings["image_shape"] = tuple(images)
        if args.cluster_shift is not None:
            if images is None:
                raise ValueError("--cluster-shift shifts images: give --image-shape H,W for "
                                 "a data file")
            settings["augment"] = {"shift": args.cluster_shift}
            if args.cluster_rotate:
                settings["augment"]["rotate"] = args.cluster_rotate
        elif args.cluster_rotate is not None:
            raise ValueError("--cluster-rotate turns the shifted batches: give --cluster-shift")
        kinds = [flag for flag, v in (("--cluster-shift", args.cluster_shift),
                                      ("--cluster-mask", args.cluster_mask),
                                      ("--cluster-neighbours", args.cluster_neighbours))
                 if v is not None]
        if len(kinds) > 1:
            raise ValueError(f"{' and '.join(kinds)} are different kinds of augmentation: "
                             "give one")
        if args.cluster_mask is not None:
            settings["augment"] = {"mask": args.cluster_mask}
        if args.cluster_neighbours is not None:
            settings["augment"] = {"neighbours": args.cluster_neighbours}
        if args.no_cluster_augment:
            if kinds:
                raise ValueError(f"--no-cluster-augment contradicts {' and '.join(kinds)}")
            settings["augment"] = None
        return _fit_and_report(args, X, y, shape, settings, f"fit {args.dataset}", run)


def _phase(augment: Optional[dict]) -> str:
    """The clustering phase in words, for the progress line.

    Examples
    --------
    >>> _phase(None), _phase({"mask": 0.2})
    ('DEC', 'DEC on rows with 20% of their values masked at random')
    >>> _phase({"neighbours": 5})
    'DEC on rows swapped for one of their 5 nearest neighbours'
    >>> _phase({"shift": 0.1, "rotate": 10})
    'DEC on images shifted by up to 0.1 of their side and turned by up to 10 degrees'
    """
    if not augment:
        return "DEC"
    if "mask" in augment:
        return f"DEC on rows with {augment['mask']:.0%} of their values masked at random"
    if "neighbours" in augment:
        return f"DEC on rows swapped for one of their {augment['neighbours']} nearest neighbours"
    turn = (f" and turned by up to {augment['rotate']:g} degrees" if augment.get("rotate")
            else "")
    return f"DEC on images shifted by up to {augment['shift']:g} of their side{turn}"


def _checked_shape(shape, X):
    """``shape`` if it fits X's rows (or None); ValueError naming --image-shape otherwise."""
    if shape is not None and shape[0] * shape[1] != X.shape[1]:
        raise ValueError(f"--image-shape {shape[0]},{shape[1]} has {shape[0] * shape[1]} "
                         f"pixels, the data have {X.shape[1]} features")
    return shape


def _check_out_file(path):
    """--out of `pretrain` (a file): refuse a folder or an unwritable place before any work."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"--out {path} is a folder; give the file to write, e.g. {path}/sae.npz")
    base = path.parent
    while not base.exists():
        base = base.parent
    if not base.is_dir():
        raise ValueError(f"--out {path}: {base} is a file, not a folder")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".dec-np-probe-", dir=base))
    except OSError as exc:
        raise OSError(f"--out {path} is not writable ({exc.strerror or exc} in {base})") from None


def cmd_pretrain(args: argparse.Namespace) -> int:
    """``dec-np pretrain``: train a stacked autoencoder and save it to --out.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        The exit status (0: done).
    """
    _check_out_file(args.out)
    X, _, _ = load_data(args.dataset, args.data_dir, None, args.n_samples, args.seed,
                        not args.quiet)
    fast = DEMO["fast"] if _fast(args) else {}
    dims = fast.get("hidden_dims", args.hidden_dims)
    t0 = time.perf_counter()
    schedule = _schedule(args, fast.get("schedule", args.schedule))
    try:
        sae = pretrain(X, dims, schedule, args.backend, args.seed, not args.quiet,
                       _checked_shape(augment_shape(args), X))
    except FloatingPointError as exc:
        raise _pretrain_hint(exc) from None
    path = save_autoencoder(sae, args.out)
    loss = sae.reconstruction_loss(dec_input(X, schedule))
    print(f"autoencoder {'-'.join(map(str, sae.dims))}: reconstruction loss {loss:.5f}, "
          f"{time.perf_counter() - t0:.1f} s; wrote {path}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    """``dec-np evaluate``: predict a data set with a saved model.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        The exit status (0: done).
    """
    with (RunFolder(args.out, "evaluate", keep_models=False, say=say, note=note) if args.out
          else contextlib.nullcontext()) as run:
        model = load_dec(args.model, backend=args.backend)
        X, y, _ = load_data(args.dataset, args.data_dir, args.labels, args.n_samples, args.seed,
                            not args.quiet)
        if X.shape[1] != model.autoencoder_.dims[0]:
            raise ValueError(f"{args.model} expects {model.autoencoder_.dims[0]} features, "
                             f"{args.dataset} has {X.shape[1]}")
        t0 = time.perf_counter()
        labels = model.predict(X)
        sizes = np.bincount(labels, minlength=model.n_clusters).tolist()
        result = metrics_record(
            command="evaluate", dataset=str(args.dataset), data=data_fingerprint(X),
            n_samples=len(X), n_features=int(X.shape[1]), n_clusters=int(model.n_clusters),
            model=str(args.model), seed=args.seed, hidden_dims=list(model.autoencoder_.dims[1:]),
            n_iter=model.n_iter_, mean_kl=mean_kl(model, X), cluster_sizes=sizes,
            dec=scores(y, labels), ae_kmeans=None,
            times_s={"total": time.perf_counter() - t0})
        if run is not None:
            run.create()
            with run.results() as new:
                np.save(new / "labels.npy", labels)
                (new / "metrics.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"{len(X)} points in {model.n_clusters} clusters, sizes {sizes}, "
          f"mean KL {result['mean_kl']:.5f}")
    if y is not None:
        s = result["dec"]
        print(f"ACC {s['acc']:.4f}  NMI {s['nmi']:.4f}  ARI {s['ari']:.4f}")
    return 0


def cmd_gradcheck(args: argparse.Namespace) -> int:
    """``dec-np gradcheck``: every finite-difference check, as a table.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        The exit status (0: done; 1: a check failed).
    """
    from .gradcheck import report
    errors = check_all(get_backend(args.backend), seed=args.seed)
    print(report(errors, tol=args.tol, title="finite-difference checks (float64)"))
    failed = [k for k, e in errors.items() if not e < args.tol]
    print(f"{len(errors) - len(failed)}/{len(errors)} ok" + (f"; FAILED: {failed}" if failed else ""))
    return 1 if failed else 0


def cmd_select_k(args: argparse.Namespace) -> int:
    """``dec-np select-k``: generalizability G and NMI for each k.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        The exit status (0: done).
    """
    with RunFolder(args.out, "select-k", keep_models=False, say=say, note=note) as run:
        return _select_k(args, run)


def _select_k(args, run):
    if not 2 <= args.k_min <= args.k_max:
        raise ValueError(f"need 2 <= --k-min <= --k-max, got {args.k_min} and {args.k_max}")
    X, y, _ = load_data(args.dataset, args.data_dir, args.labels, args.n_samples, args.seed,
                        not args.quiet)
    order = np.random.default_rng(args.seed).permutation(len(X))
    n_val = int(round(args.val_fraction * len(X)))
    if not 0 < n_val < len(X):
        raise ValueError(f"--val-fraction {args.val_fraction} leaves no train or validation points")
    tr, va = np.sort(order[n_val:]), np.sort(order[:n_val])
    fast = DEMO["fast"] if _fast(args) else {}
    dims = fast.get("hidden_dims", args.hidden_dims)
    schedule = _schedule(args, fast.get("schedule", args.schedule))
    sae = None
    if args.autoencoder:
        sae = load_autoencoder(args.autoencoder, backend=args.backend)
        if sae.dims[0] != X.shape[1]:
            raise ValueError(f"{args.autoencoder} expects {sae.dims[0]} features, the data "
                             f"have {X.shape[1]}")
    kw = dict(n_jobs=args.jobs, max_iter=args.max_iter or fast.get("max_iter", 20000),
              update_interval=fast.get("update_interval", 140), n_init=fast.get("n_init", 20))
    _check_dec(DEC(args.k_max, schedule=schedule, **kw), X[tr])
    shape = _checked_shape(augment_shape(args), X)
    out = run.create()
    if sae is None:
        say(f"pretraining one autoencoder on the {len(tr)} training points ...")
        try:
            sae = pretrain(X[tr], dims, schedule, args.backend, args.seed, not args.quiet,
                           shape)
        except FloatingPointError as exc:
            raise _pretrain_hint(exc) from None
    make = lambda k: DEC(k, autoencoder=sae, schedule=schedule, backend=args.backend,
                         random_state=args.seed, **kw)
    rows = select_k(X[tr], X[va], range(args.k_min, args.k_max + 1), make,
                    None if y is None else y[tr], None if y is None else y[va])
    cols = ["k", "L_train", "L_val", "G"] + (["nmi_train", "nmi_val", "acc_train"] if y is not None
                                             else [])
    print(markdown_table(rows, cols))
    with run.results() as new:
        (new / "select_k.json").write_text(json.dumps(
            {"dataset": str(args.dataset), "n_train": len(tr), "n_val": len(va), "rows": rows},
            indent=2) + "\n")
        if y is not None and not args.no_figures:
            try:
                from .plotting import plot_select_k
                plot_select_k([r["k"] for r in rows], [r["G"] for r in rows],
                              [r["nmi_train"] for r in rows], new / "select_k.png")
            except Exception as exc:  # the figure is optional
                say(f"figure select_k.png skipped: {type(exc).__name__}: {exc}")
    print(f"wrote {out / 'select_k.json'}")
    return 0


# ----------------------------------------------------------------------------- the parser
def build_parser() -> argparse.ArgumentParser:
    """The ``dec-np`` argument parser (:func:`dec_np.cli_args.build_parser`), each command's
    ``func`` one of this module's ``cmd_*`` functions.

    Returns
    -------
    argparse.ArgumentParser
        Its ``parse_args`` gives a namespace whose ``func`` runs the command.
    """
    return cli_args.build_parser({"demo": cmd_demo, "fit": cmd_fit, "pretrain": cmd_pretrain,
                                  "evaluate": cmd_evaluate, "gradcheck": cmd_gradcheck,
                                  "select-k": cmd_select_k})


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line.

    Parameters
    ----------
    argv : list of str, optional
        The arguments; default ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit status: 0 done, 1 an error (one line on stderr), 130 interrupted; a usage
        error exits with 2 (SystemExit) before anything runs.
    """
    args = build_parser().parse_args(argv)
    _QUIET[0] = args.quiet
    if getattr(args, "jobs", None) is None:
        args.jobs = "blas"  # DEC's default; --threads then sets BLAS's thread count
    blas = args.jobs == "blas"
    threads = getattr(args, "threads", None) or (1 if args.command == "demo" and blas else None)
    try:
        get_backend(args.backend)  # no CuPy: fail before loading or training anything
        with blas_threads(threads if blas else None), host_threads(args.jobs):
            return args.func(args)
    except KeyboardInterrupt:
        state = Path(getattr(args, "out", None) or ".") / "fit_state.npz"
        hint = (f"; the DEC state is in {state}: add --resume to continue"
                if args.command == "fit" and state.exists() else "")
        print(f"dec-np {args.command}: interrupted{hint}", file=sys.stderr)
        return 130
    except MemoryError as exc:  # a real file too large for this machine: say so in one line
        print(f"dec-np {args.command}: error: out of memory ({exc or 'MemoryError'}); use "
              "--n-samples, a smaller network or a machine with more memory", file=sys.stderr)
        return 1
    except (ValueError, OSError, RuntimeError, FloatingPointError) as exc:
        # user mistakes (bad file, unknown dataset, bad settings, no CuPy): one line, no traceback
        print(f"dec-np {args.command}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1

"""The ``dec-np`` command (also ``python -m dec_np``): demo, fit, pretrain, evaluate, gradcheck, select-k.

Each subcommand is a small function of the parsed arguments; the helpers they share
(loading data, pretraining, scoring, the generalizability of a fit) are public so that
``benchmarks/experiments.py`` reuses them.  A user mistake is one line on stderr and exit 1.

An ``--out`` folder holds one run (:mod:`dec_np.runs`): checked writable before any work,
locked while in use, results moved in as one set, resumed only by the run that saved it.
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

import numpy as np

from .autoencoder import StackedAutoencoder
from .backend import DEFAULT_DTYPE, asnumpy, get_backend
from . import __version__
from .checkpoint import data_fingerprint, load_autoencoder, save_autoencoder, save_dec
from .datasets import load_dataset, load_digits, load_labels
from .gradcheck import check_all
from .dec import DEC, _validate as _check_dec, load_dec
from .dec_math import kl_divergence, target_distribution
from .metrics import ari, cluster_accuracy, nmi
from .scaling import input_scale_factor
from .threads import host_threads, resolve_n_jobs
from .runs import STATE, STATE_ID, RunFolder, resume_or_fresh, run_identity
from .schedules import DEFAULT, SCHEDULES, get_schedule, run_schedule, with_lr

IMAGE_SHAPES = {"mnist": (28, 28), "mnist-test": (28, 28), "fashion-mnist": (28, 28),
                "usps": (16, 16), "digits": (8, 8)}
#: The demo: embedded digits, a smaller network and shorter schedules than the paper's
#: (measured on 2 CPU cores, see ``demo``); "fast" is the hidden test-suite setting.
DEMO = {
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


def say(*parts):
    """Progress for people: stderr, flushed, so stdout stays the results (silent with --quiet)."""
    if not _QUIET[0]:
        print(*parts, file=sys.stderr, flush=True)


def note(*parts):
    """A notice the user must see even with --quiet (something was discarded or taken over)."""
    print("dec-np: note:", *parts, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- shared helpers
def load_data(name, data_dir=None, labels=None, n_samples=None, seed=0, progress=True):
    """(X, y, image_shape) for a dataset name or file; ``labels`` a .npy of y; ``n_samples`` a
    random subset of that size; ``progress`` reports downloads."""
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


def dec_input(X, schedule="default"):
    """X scaled as DEC(schedule=schedule) scales it (the schedule's input_scaling), float32."""
    scale = input_scale_factor(asnumpy(X), get_schedule(schedule)["input_scaling"])
    return np.asarray(X, DEFAULT_DTYPE) * DEFAULT_DTYPE(scale)


def pretrain(X, hidden_dims, schedule, backend=None, seed=0, verbose=True, image_shape=None):
    """Pretrain a StackedAutoencoder on ``dec_input(X, schedule)`` with ``schedule``
    (``image_shape`` as in :func:`~dec_np.schedules.run_schedule`)."""
    s = get_schedule(schedule)
    sae = StackedAutoencoder((X.shape[1],) + tuple(hidden_dims), backend=backend,
                             random_state=seed, **s["model"])
    return run_schedule(sae, dec_input(X, schedule), s, verbose, image_shape)


def augment_shape(args):
    """The image shape pretraining may shift: --image-shape, else that of a named image data
    set; None for a data file without --image-shape (its rows are not assumed to be images)."""
    if getattr(args, "image_shape", None) is not None:
        return args.image_shape
    return IMAGE_SHAPES.get(str(args.dataset).lower())


def scores(y, labels):
    """{"acc", "nmi", "ari"} of ``labels`` against ``y`` (None without y)."""
    if y is None:
        return None
    return {"acc": cluster_accuracy(y, labels), "nmi": nmi(y, labels), "ari": ari(y, labels)}


def mean_kl(model, X):
    """L = KL(P||Q) / n over the points of X, with P the target of the model's q on X."""
    q = model.predict_proba(X)
    return kl_divergence(target_distribution(q), q) / len(X)


def select_k(X_train, X_val, ks, make_model, y_train=None, y_val=None):
    """For each k: fit ``make_model(k)`` on X_train; G = L_train / L_validation and NMI.

    Returns a list of dicts (k, L_train, L_val, G, nmi_train, nmi_val, acc_train).
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


def markdown_table(rows, columns):
    """A markdown table of ``rows`` (dicts); floats with 4 decimals."""
    fmt = lambda v: f"{v:.4f}" if isinstance(v, float) else str(v)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def figures(out, model=None, X=None, y=None, image_shape=None, sae=None, Z_ae=None):
    """Write the figures that apply into ``out`` with :mod:`dec_np.plotting`; list the files."""
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


def _dims(text):
    try:
        dims = tuple(int(v) for v in str(text).split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected widths like 500,500,2000,10, got {text!r}")
    if not dims or min(dims) < 1:
        raise argparse.ArgumentTypeError(f"widths must be positive, got {text!r}")
    return dims


@contextlib.contextmanager
def blas_threads(n):
    """Limit the CPU BLAS to ``n`` threads inside the block (needs threadpoolctl; None: no limit).

    The demo's matrices are small: two OpenBLAS threads made it 90 times slower than one on a
    busy 2-core machine (145 s against 1.6 s), so the demo asks for one.
    """
    if n is None:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
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
    s = with_lr(name, lr)
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
        say(f"pretraining the autoencoder {X.shape[1]}-"
            f"{'-'.join(map(str, settings['hidden_dims']))} ...")
        try:
            sae = pretrain(X, settings["hidden_dims"], settings["schedule"], args.backend,
                           args.seed, not args.quiet, settings.get("image_shape"))
        except FloatingPointError as exc:
            raise _pretrain_hint(exc) from None
    t_pre = time.perf_counter() - t0
    model = DEC(args.n_clusters, autoencoder=sae, backend=args.backend, random_state=args.seed,
                verbose=not args.quiet, n_jobs=args.jobs, **settings)
    say("k-means on the embedding, then DEC ..." if resume is None else "DEC ...")
    try:
        model.fit(X, y, checkpoint_path=state, resume_from=resume)
    except FloatingPointError as exc:
        raise FloatingPointError(f"{exc}; on the command line: --lr sets DEC's learning rate, "
                                 "--input-scaling the input scaling") from None
    t_total = time.perf_counter() - t0
    result = {"dataset": str(args.dataset), "n_samples": int(X.shape[0]),
              "n_clusters": int(args.n_clusters), "seed": args.seed,
              "hidden_dims": list(model.autoencoder_.dims[1:]), "n_iter": model.n_iter_,
              "ae_kmeans": scores(y, model.init_labels_), "dec": scores(y, model.labels_),
              "cluster_sizes": np.bincount(model.labels_, minlength=args.n_clusters).tolist(),
              "times_s": {"pretrain": t_pre, "dec": model.fit_time_, "total": t_total},
              "data": identity["data"], "version": __version__}
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


def cmd_demo(args):
    with RunFolder(args.out, "demo", say=say, note=note) as run:
        X, y = load_digits()
        settings = dict(DEMO["fast" if _fast(args) else "full"])
        if args.max_iter is not None:
            settings["max_iter"] = args.max_iter
        args.dataset, args.n_clusters, args.autoencoder = "digits", 10, None
        return _fit_and_report(args, X, y, (8, 8), settings, "demo (UCI digits)", run)


def cmd_fit(args):
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
        return _fit_and_report(args, X, y, shape, settings, f"fit {args.dataset}", run)


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


def cmd_pretrain(args):
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


def cmd_evaluate(args):
    with (RunFolder(args.out, "evaluate", keep_models=False, say=say, note=note) if args.out
          else contextlib.nullcontext()) as run:
        model = load_dec(args.model, backend=args.backend)
        X, y, _ = load_data(args.dataset, args.data_dir, args.labels, args.n_samples, args.seed,
                            not args.quiet)
        if X.shape[1] != model.autoencoder_.dims[0]:
            raise ValueError(f"{args.model} expects {model.autoencoder_.dims[0]} features, "
                             f"{args.dataset} has {X.shape[1]}")
        labels = model.predict(X)
        sizes = np.bincount(labels, minlength=model.n_clusters).tolist()
        result = {"model": str(args.model), "dataset": str(args.dataset), "n_samples": len(X),
                  "mean_kl": mean_kl(model, X), "cluster_sizes": sizes,
                  "scores": scores(y, labels), "data": data_fingerprint(X)}
        if run is not None:
            run.create()
            with run.results() as new:
                np.save(new / "labels.npy", labels)
                (new / "metrics.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"{len(X)} points in {model.n_clusters} clusters, sizes {sizes}, "
          f"mean KL {result['mean_kl']:.5f}")
    if y is not None:
        s = result["scores"]
        print(f"ACC {s['acc']:.4f}  NMI {s['nmi']:.4f}  ARI {s['ari']:.4f}")
    return 0


def cmd_gradcheck(args):
    from .gradcheck import report
    errors = check_all(get_backend(args.backend), seed=args.seed)
    print(report(errors, tol=args.tol, title="finite-difference checks (float64)"))
    failed = [k for k, e in errors.items() if not e < args.tol]
    print(f"{len(errors) - len(failed)}/{len(errors)} ok" + (f"; FAILED: {failed}" if failed else ""))
    return 1 if failed else 0


def cmd_select_k(args):
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
class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not usage + message
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _common(p, data=True):
    if data:
        p.add_argument("--dataset", default="digits",
                       help="mnist, mnist-test, fashion-mnist, usps, digits or FILE.npy/.npz")
        p.add_argument("--labels", help="FILE.npy with the true labels (for a data file)")
        p.add_argument("--data-dir", help="folder holding mnist/, fashion-mnist/, usps/ "
                                          "(default $DEC_NP_DATA or ~/.cache/dec_np)")
        p.add_argument("--n-samples", type=int, help="use a random subset of this size")
    p.add_argument("--backend", choices=("numpy", "cupy"), help="default $DEC_NP_BACKEND or numpy")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true",
                   help="no progress lines (downloads included); errors and notes still show")
    p.add_argument("--no-figures", action="store_true", help="skip the figures")
    p.add_argument("--jobs", type=_jobs, metavar="N",
                   help="host threads, BLAS on one each: the same numbers for every N (default: "
                        "2 on two cores or more, DEC's n_jobs); 'blas' for BLAS's own threads")
    p.add_argument("--threads", type=int,
                   help="CPU BLAS threads, with --jobs blas (the default when --threads is given; "
                        "default: all; demo: 1)")
    p.add_argument("--fast", action="store_true", help=argparse.SUPPRESS)  # tests: tiny settings


def _jobs(text):
    try:
        value = text if text == "blas" else int(text)
        resolve_n_jobs(value)  # refuses 0 and below
        return value
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of threads >= 1 or 'blas', got {text!r}")


def _pretraining_flags(p):
    p.add_argument("--pretrain-lr", type=_positive_float, metavar="LR",
                   help="learning rate of pretraining, layer-wise and fine-tuning alike "
                        "(default: the schedule's; the default schedule still caps Adam's rate x "
                        "epochs at LR x 100)")
    p.add_argument("--input-scaling", choices=("paper", "max", "none"),
                   help="how X is scaled before pretraining and DEC (default: the schedule's)")


def _image_shape(text):
    shape = _dims(text)
    if len(shape) != 2:
        raise argparse.ArgumentTypeError(f"expected H,W like 28,28, got {text!r}")
    return shape


def _image_flag(p):
    p.add_argument("--image-shape", type=_image_shape, metavar="H,W",
                   help="the rows of a data file are H x W images: schedules that augment "
                        "(the default) shift them (named image data sets: their own shape)")


def _resume_flag(p):
    p.add_argument("--resume", action="store_true",
                   help="continue the unfinished fit in OUT (saved at target updates, at most "
                        "every 10 s, and on Ctrl-C); refused if it was another run's (other "
                        "data, seed or settings)")


def _positive_float(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not v > 0 or v == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return v


def build_parser():
    parser = _Parser(prog="dec-np", description="Deep Embedded Clustering (Xie et al., ICML "
                     "2016) in NumPy/CuPy.")
    parser.add_argument("--version", action="version", version=f"dec-np {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("demo", help="DEC on the embedded digits, with figures (< 1 min on a CPU)")
    _common(p, data=False)
    p.add_argument("--out", default="dec_np_demo", help="output folder (default dec_np_demo/)")
    p.add_argument("--max-iter", type=int, help="DEC iterations (default 1000)")
    _resume_flag(p)
    p.set_defaults(func=cmd_demo, pretrain_lr=None, input_scaling=None)

    p = sub.add_parser("fit", help="pretrain + DEC on a dataset; labels, metrics, model, figures")
    _common(p)
    p.add_argument("--n-clusters", type=int, default=10)
    p.add_argument("--out", default="dec_np_fit", help="output folder (default dec_np_fit/)")
    p.add_argument("--autoencoder", help="a pretrained SAE .npz (from `dec-np pretrain`)")
    p.add_argument("--hidden-dims", type=_dims, help="encoder widths, default 500,500,2000,10")
    p.add_argument("--schedule", help=f"pretraining schedule: default ({DEFAULT}), "
                   f"{', '.join(n for n in SCHEDULES if n != DEFAULT)}; "
                   "with --autoencoder, the one it was pretrained with (sets the input scaling)")
    for flag, kind in (("--max-iter", int), ("--update-interval", int), ("--lr", float),
                       ("--batch-size", int), ("--tol", float), ("--n-init", int)):
        p.add_argument(flag, type=kind, help="DEC setting (default: DEC's)")
    _pretraining_flags(p)
    _image_flag(p)
    _resume_flag(p)
    p.set_defaults(func=cmd_fit)

    p = sub.add_parser("pretrain", help="train a stacked autoencoder and save it")
    _common(p)
    p.add_argument("--hidden-dims", type=_dims, default=(500, 500, 2000, 10))
    p.add_argument("--schedule", default="default")
    _pretraining_flags(p)
    _image_flag(p)
    p.add_argument("--out", default="sae.npz", help="file to write (default sae.npz)")
    p.set_defaults(func=cmd_pretrain)

    p = sub.add_parser("evaluate", help="predict a dataset with a saved DEC model")
    _common(p)
    p.add_argument("--model", required=True, help="model .npz written by fit or demo")
    p.add_argument("--out", help="also write labels.npy and metrics.json into this folder")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("gradcheck", help="run every finite-difference gradient check")
    _common(p, data=False)
    p.add_argument("--tol", type=float, default=1e-6, help="largest relative error accepted")
    p.set_defaults(func=cmd_gradcheck)

    p = sub.add_parser("select-k", help="choose k by generalizability G = L_train / L_val")
    _common(p)
    p.add_argument("--k-min", type=int, default=5)
    p.add_argument("--k-max", type=int, default=15)
    p.add_argument("--val-fraction", type=float, default=0.2)
    p.add_argument("--autoencoder", help="a pretrained SAE .npz (default: pretrain one)")
    p.add_argument("--hidden-dims", type=_dims, default=(500, 500, 2000, 10))
    p.add_argument("--schedule", default="default")
    p.add_argument("--max-iter", type=int, help="DEC iterations per k (default DEC's)")
    _pretraining_flags(p)
    _image_flag(p)
    p.add_argument("--out", default="dec_np_select_k")
    p.set_defaults(func=cmd_select_k)
    return parser


def main(argv=None):
    """Run the command line; returns the exit status (0 ok, 1 error, 2 usage, 130 Ctrl-C)."""
    args = build_parser().parse_args(argv)
    _QUIET[0] = args.quiet
    if getattr(args, "jobs", None) is None:
        args.jobs = "blas" if getattr(args, "threads", None) else None
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
    except (ValueError, OSError, RuntimeError, FloatingPointError) as exc:
        # user mistakes (bad file, unknown dataset, bad settings, no CuPy): one line, no traceback
        print(f"dec-np {args.command}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1

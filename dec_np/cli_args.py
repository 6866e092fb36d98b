"""The ``dec-np`` command line's arguments: one parser per command, every option with its
help and default, and the types that turn a bad number into a usage error (exit 2).

:mod:`dec_np.cli` runs the commands; this module only describes them.
"""
from __future__ import annotations

import argparse
from typing import Callable, Mapping, NoReturn

from . import __version__
from . import schedules as _schedules
from .threads import resolve_n_jobs


def _dims(text: str) -> "tuple[int, ...]":
    try:
        dims = tuple(int(v) for v in str(text).split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected widths like 500,500,2000,10, got {text!r}")
    if not dims or min(dims) < 1:
        raise argparse.ArgumentTypeError(f"widths must be positive, got {text!r}")
    return dims


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not usage + message
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


class _Help(argparse.HelpFormatter):
    """Each option's help ends with "(default: ...)", unless it says it already or has none
    (None, a flag that is off)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if ("(default" in text or not action.option_strings
                or action.default in (None, False, argparse.SUPPRESS)):
            return text
        default = action.default
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else "%(default)s"
        return f"{text} (default: {shown})"


def _common(p: argparse.ArgumentParser, data: bool = True) -> None:
    if data:
        p.add_argument("--dataset", default="digits",
                       help="mnist, mnist-test, fashion-mnist, usps, digits or a file: .npy, "
                            ".npz, or a .csv/.tsv/.txt table of numbers (optionally .gz)")
        p.add_argument("--labels", metavar="FILE",
                       help="the true labels, one integer per row of a data file, in a .npy or "
                            "a .csv/.tsv/.txt with one per line (to score the clustering; "
                            "default: the data set's own, if any)")
        p.add_argument("--data-dir", help="folder holding mnist/, fashion-mnist/, usps/ "
                                          "(default $DEC_NP_DATA or ~/.cache/dec_np)")
        p.add_argument("--n-samples", type=_positive_int, metavar="N",
                       help="use a random subset of N rows, drawn with --seed (default: all)")
    p.add_argument("--backend", choices=("numpy", "cupy"),
                   help="array library (default: $DEC_NP_BACKEND, else numpy)")
    p.add_argument("--seed", type=int, default=0,
                   help="random seed: weights, k-means, mini-batches and --n-samples "
                        "(gradcheck: its random inputs)")
    p.add_argument("--quiet", action="store_true",
                   help="no progress lines (downloads included); errors and notes still show")
    p.add_argument("--no-figures", action="store_true", help="skip the figures")
    p.add_argument("--jobs", type=_jobs, metavar="N",
                   help="host threads, BLAS on one each: the same numbers for every N; "
                        "'blas' for BLAS's own threads (the default: DEC's n_jobs)")
    p.add_argument("--threads", type=_positive_int, metavar="N",
                   help="CPU BLAS threads (>= 1) under --jobs blas, the default (default: "
                        "all; demo: 1)")
    p.add_argument("--fast", action="store_true", help=argparse.SUPPRESS)  # tests: tiny settings


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text!r}")
    return v


def _jobs(text: str) -> "int | str":
    try:
        value: "int | str" = text if text == "blas" else int(text)
        resolve_n_jobs(value)  # refuses 0 and below
        return value
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of threads >= 1 or 'blas', got {text!r}")


def _pretraining_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pretrain-lr", type=_positive_float, metavar="LR",
                   help="learning rate of pretraining, layer-wise and fine-tuning alike "
                        "(default: the schedule's; the default schedule still caps Adam's rate x "
                        "epochs at LR x 100)")
    p.add_argument("--input-scaling", choices=("paper", "max", "none"),
                   help="how X is scaled before pretraining and DEC (default: the schedule's)")


def _image_shape(text: str) -> "tuple[int, ...]":
    shape = _dims(text)
    if len(shape) != 2:
        raise argparse.ArgumentTypeError(f"expected H,W like 28,28, got {text!r}")
    return shape


def _image_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--image-shape", type=_image_shape, metavar="H,W",
                   help="the rows of a data file are H x W images: schedules that augment "
                        "(the default) shift them (default: a named image data set's own "
                        "shape; none for a data file)")


def _resume_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--resume", action="store_true",
                   help="continue the unfinished fit in OUT (saved at target updates, at most "
                        "every 10 s, and on Ctrl-C); refused if it was another run's (other "
                        "data, seed or settings)")


def _float_between(text: str, low: float, high: float, what: str) -> float:
    """``float(text)`` if ``low < value < high``, else an argparse usage error saying ``what``."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not low < v < high:
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
    return v


def _positive_float(text: str) -> float:
    return _float_between(text, 0.0, float("inf"), "a finite number > 0")


def _fraction(text: str) -> float:
    return _float_between(text, 0.0, 1.0, "strictly between 0 and 1")


def _shift_fraction(text: str) -> float:
    """A fraction of the image side in (0, 0.5), for --cluster-shift."""
    return _float_between(text, 0.0, 0.5, "a fraction of the image side in (0, 0.5)")


def _probability(text: str) -> float:
    """A probability in (0, 1), for --cluster-mask."""
    return _float_between(text, 0.0, 1.0, "a probability in (0, 1)")


def _degrees(text: str) -> float:
    """An angle in degrees in [0, 180], for --cluster-rotate."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 <= v <= 180:
        raise argparse.ArgumentTypeError(f"must be an angle in degrees in [0, 180], got {text!r}")
    return v


SCHEDULES = (f"default ({_schedules.DEFAULT}; shifts on images: named data sets, --image-shape), "
             + ", ".join(n for n in _schedules.SCHEDULES if n != _schedules.DEFAULT))
DESCRIPTIONS = {
    "demo": "Pretrain an autoencoder and run DEC on the embedded UCI digits (1,797 8x8 images), "
            "then write labels.npy, metrics.json, model.npz and figures into --out.",
    "fit": "Pretrain a stacked autoencoder (or load one with --autoencoder), initialise the "
           "centres with k-means on its embedding, and run DEC.  Writes labels.npy, "
           "metrics.json (docs/metrics-json.md), model.npz and figures into --out; Ctrl-C "
           "saves the state, --resume continues it.",
    "pretrain": "Train a stacked denoising autoencoder with a schedule and save it as one "
                ".npz, for `fit --autoencoder` or `select-k --autoencoder`.",
    "evaluate": "Predict the clusters of a data set with a model written by fit or demo; "
                "prints the cluster sizes, the mean KL and, with labels, ACC, NMI and ARI.  "
                "With --out, also writes labels.npy and metrics.json.",
    "gradcheck": "Compare every analytic gradient of the package (layers, losses, the "
                 "autoencoder, DEC's KL) with centred finite differences in float64; exit 1 if "
                 "any relative error reaches --tol.",
    "select-k": "Choose the number of clusters by generalizability G = L_train / L_val "
                "(DEC paper, Sec. 5.5): one autoencoder, then one DEC fit per k on a training "
                "split, scored on a held-out split.",
}


def build_parser(commands: "Mapping[str, Callable[[argparse.Namespace], int]]"
                 ) -> argparse.ArgumentParser:
    """The ``dec-np`` argument parser: one subparser per command, each with its description
    and every option's help and default.

    Parameters
    ----------
    commands : mapping of str to callable
        The function of each command ("demo", "fit", "pretrain", "evaluate", "gradcheck",
        "select-k"), set as the parsed namespace's ``func``.

    Returns
    -------
    argparse.ArgumentParser
        Its ``parse_args`` gives a namespace whose ``func`` runs the command.
    """
    parser = _Parser(prog="dec-np", formatter_class=_Help, description="Deep Embedded "
                     "Clustering (Xie et al., ICML 2016) in NumPy/CuPy.")
    parser.add_argument("--version", action="version", version=f"dec-np {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, summary: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=summary, description=DESCRIPTIONS[name],
                              formatter_class=_Help)

    p = command("demo", "DEC on the embedded digits, with figures (< 1 min on a CPU)")
    _common(p, data=False)
    p.add_argument("--out", default="dec_np_demo", help="output folder")
    p.add_argument("--max-iter", type=_positive_int, help="DEC iterations (default 1000)")
    _resume_flag(p)
    p.set_defaults(func=commands["demo"], pretrain_lr=None, input_scaling=None)

    p = command("fit", "pretrain + DEC on a dataset; labels, metrics, model, figures")
    _common(p)
    p.add_argument("--n-clusters", type=int, default=10, metavar="K", help="number of clusters")
    p.add_argument("--out", default="dec_np_fit", help="output folder")
    p.add_argument("--autoencoder", metavar="FILE.npz",
                   help="a pretrained SAE (from `dec-np pretrain`; default: pretrain one)")
    p.add_argument("--hidden-dims", type=_dims, metavar="W,W,...",
                   help="encoder widths, the last one the embedding's (default 500,500,2000,10; "
                        "with --autoencoder, its own)")
    p.add_argument("--schedule", help=f"pretraining schedule: {SCHEDULES}; with "
                   "--autoencoder, the one it was pretrained with (sets the input scaling) "
                   "(default: default)")
    for flag, kind, what in (
            ("--max-iter", int, "DEC iterations at most"),
            ("--update-interval", int, "iterations between target updates"),
            ("--lr", float, "DEC's SGD learning rate"),
            ("--batch-size", int, "DEC's mini-batch size"),
            ("--tol", float, "stop when fewer than this fraction of labels change at an update"),
            ("--n-init", int, "k-means restarts on the embedding")):
        p.add_argument(flag, type=kind, help=f"{what} (default: DEC's)")
    p.add_argument("--cluster-shift", type=_shift_fraction, metavar="F",
                   help="images only: in every DEC step shift the batch the encoder learns "
                        "from by up to F of the image side, the target P staying the clean "
                        "images' (DEC(augment={'shift': F}); default: DEC's "
                        "augment='auto', shifts of 0.1 and turns of 10 degrees for images, "
                        "at most 2,520 iterations)")
    p.add_argument("--cluster-rotate", type=_degrees, metavar="DEG",
                   help="with --cluster-shift: also turn each image of the batch by a random "
                        "angle of up to DEG degrees either way (DEC(augment={'shift': F, "
                        "'rotate': DEG}); default: no rotation)")
    p.add_argument("--cluster-mask", type=_probability, metavar="RATE",
                   help="any rows: in every DEC step zero each value of the batch the encoder "
                        "learns from with probability RATE, scaling the rest by 1/(1-RATE), "
                        "the target P staying the clean rows' (DEC(augment={'mask': RATE}))")
    p.add_argument("--cluster-neighbours", type=_positive_int, metavar="K",
                   help="any rows: in every DEC step the encoder learns each row's target "
                        "from one of its K nearest neighbours in the pretrained embedding, "
                        "drawn at random (DEC(augment={'neighbours': K}))")
    p.add_argument("--no-cluster-augment", action="store_true",
                   help="the paper's clustering phase on the rows as they are "
                        "(DEC(augment=None); at most 2,520 iterations unless --max-iter)")
    _pretraining_flags(p)
    _image_flag(p)
    _resume_flag(p)
    p.set_defaults(func=commands["fit"])

    p = command("pretrain", "train a stacked autoencoder and save it")
    _common(p)
    p.add_argument("--hidden-dims", type=_dims, default=(500, 500, 2000, 10), metavar="W,W,...",
                   help="encoder widths, the last one the embedding's")
    p.add_argument("--schedule", default="default", help=f"pretraining schedule: {SCHEDULES}")
    _pretraining_flags(p)
    _image_flag(p)
    p.add_argument("--out", default="sae.npz", help="file to write")
    p.set_defaults(func=commands["pretrain"])

    p = command("evaluate", "predict a dataset with a saved DEC model")
    _common(p)
    p.add_argument("--model", required=True, metavar="FILE.npz",
                   help="model written by fit or demo (required)")
    p.add_argument("--out", help="also write labels.npy and metrics.json into this folder "
                                 "(default: write nothing)")
    p.set_defaults(func=commands["evaluate"])

    p = command("gradcheck", "run every finite-difference gradient check")
    _common(p, data=False)
    p.add_argument("--tol", type=_positive_float, default=1e-6,
                   help="largest relative error accepted, a finite number > 0")
    p.set_defaults(func=commands["gradcheck"])

    p = command("select-k", "choose k by generalizability G = L_train / L_val")
    _common(p)
    p.add_argument("--k-min", type=int, default=5, help="smallest k tried (>= 2)")
    p.add_argument("--k-max", type=int, default=15, help="largest k tried")
    p.add_argument("--val-fraction", type=_fraction, default=0.2,
                   help="fraction of the rows held out to compute L_val")
    p.add_argument("--autoencoder", metavar="FILE.npz",
                   help="a pretrained SAE (default: pretrain one on the training split)")
    p.add_argument("--hidden-dims", type=_dims, default=(500, 500, 2000, 10), metavar="W,W,...",
                   help="encoder widths when pretraining")
    p.add_argument("--schedule", default="default", help=f"pretraining schedule: {SCHEDULES}")
    p.add_argument("--max-iter", type=_positive_int, help="DEC iterations per k (default DEC's)")
    _pretraining_flags(p)
    _image_flag(p)
    p.add_argument("--out", default="dec_np_select_k", help="output folder")
    p.set_defaults(func=commands["select-k"])
    return parser

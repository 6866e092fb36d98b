"""Shared set-up for the tutorials: fast mode, the figures folder, and the data.

``DEC_NP_FAST=1`` makes every tutorial small and quick (the test suite runs them so);
``DEC_NP_MEDIUM=1`` is in between (the paper's network, shorter schedules: minutes, not tens);
``DEC_NP_FIGURES`` names the folder the figures go to (default ``tutorials/figures/``);
``DEC_NP_DATA`` names the folder holding ``mnist/`` (default ``../shared/data`` next to the repo).
On a small or shared machine, run with ``OPENBLAS_NUM_THREADS=1``: competing BLAS threads
made these scripts up to 100x slower on 2 busy cores.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
try:
    import dec_np  # noqa: F401
except ImportError:  # not installed: use the checkout this folder belongs to
    sys.path.insert(0, str(HERE.parent))

from dec_np.datasets import DatasetNotFoundError, load_digits, load_mnist


def _flag(name):
    return os.environ.get(name, "0").strip().lower() not in ("", "0", "false", "no")


FAST = _flag("DEC_NP_FAST")
MODE = "fast" if FAST else "medium" if _flag("DEC_NP_MEDIUM") else "full"
FIGURES = Path(os.environ.get("DEC_NP_FIGURES") or HERE / "figures")
FIGURES.mkdir(parents=True, exist_ok=True)


def figure_path(name):
    """Where the tutorial writes the figure ``name`` (a PNG file name)."""
    return FIGURES / name


def data_dir():
    """$DEC_NP_DATA, else ../shared/data relative to the repository."""
    env = os.environ.get("DEC_NP_DATA")
    return Path(env) if env else HERE.parent.parent / "shared" / "data"


def load_data(n_samples=None, prefer_mnist=True, random_state=0):
    """Images for the tutorial: MNIST when it is there (and wanted), else the embedded digits.

    Returns ``X`` (N, d) float32 in [0, 1], ``y`` (N,), ``image_shape`` and a name.  With
    ``n_samples`` a random subset of that size is drawn (all classes kept).  Says which
    data it uses, and why when it falls back.
    """
    X = None
    if prefer_mnist:
        try:
            # the 10,000 test images: the usual "MNIST-10k" of quick DEC experiments
            X, y = load_mnist(data_dir(), subset="test", download=False)
            shape, name = (28, 28), "MNIST (test split)"
        except (DatasetNotFoundError, OSError, ValueError) as exc:
            print(f"MNIST not found under {data_dir()} ({type(exc).__name__}); "
                  "falling back to the embedded 8x8 digits (load_digits)")
    if X is None:
        X, y = load_digits()
        shape, name = (8, 8), "UCI digits (embedded, 8x8)"
    if n_samples is not None and n_samples < len(X):
        idx = np.sort(np.random.default_rng(random_state).choice(len(X), n_samples, replace=False))
        X, y = X[idx], y[idx]
    print(f"data: {name}, {X.shape[0]} images of {shape[0]}x{shape[1]}")
    return X, y, shape, name


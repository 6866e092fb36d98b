"""Shared set-up for the tutorials: modes, exercises and their checks, claims, figures, data.

``DEC_NP_FAST=1`` makes every tutorial small and quick (the test suite runs them so);
``DEC_NP_MEDIUM=1`` is in between (the paper's network, shorter schedules: minutes, not tens);
``DEC_NP_FIGURES`` names the folder the figures go to (default ``tutorials/figures/``);
``DEC_NP_DATA`` names the folder holding ``mnist/``; else ``../shared/data`` next to the repo if it
holds MNIST, else ``~/.cache/dec_np`` (downloaded there except in fast mode or with
``DEC_NP_OFFLINE=1``).
``DEC_NP_SOLUTIONS=1`` replaces every exercise stub by its reference solution in
``tutorials/solutions/``; ``DEC_NP_SOLUTIONS=mutant`` by a slightly wrong copy of it (the test
suite uses both to prove that every check passes on right code and fails on wrong code).
On a small or shared machine, run with ``OPENBLAS_NUM_THREADS=1``: BLAS threads competing
for busy cores slow these small scripts down badly.
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

SOLUTIONS = os.environ.get("DEC_NP_SOLUTIONS", "").strip().lower()
if SOLUTIONS in ("0", "false", "no"):
    SOLUTIONS = ""
_STATE = {"tutorial": None, "checks": []}


def _flag(name):
    return os.environ.get(name, "0").strip().lower() not in ("", "0", "false", "no")


FAST = _flag("DEC_NP_FAST")
MODE = "fast" if FAST else "medium" if _flag("DEC_NP_MEDIUM") else "full"
FIGURES = Path(os.environ.get("DEC_NP_FIGURES") or HERE / "figures")
FIGURES.mkdir(parents=True, exist_ok=True)


def figure_path(name):
    """Where the tutorial writes the figure ``name`` (a PNG file name)."""
    return FIGURES / name


def _has_mnist(folder):
    return all((Path(folder) / "mnist" / n).is_file()
               for n in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"))


def data_dir():
    """The folder the tutorials read MNIST from (it holds ``mnist/``); the first that applies:

    1. ``$DEC_NP_DATA`` when it is set (an explicit choice is used as it is);
    2. ``../shared/data`` next to this repository, when it holds the MNIST test files;
    3. the package's own data folder, ``~/.cache/dec_np`` (or ``$XDG_CACHE_HOME/dec_np``),
       the one ``dec_np.datasets.load_mnist`` downloads to.
    """
    from dec_np.datasets import default_data_dir
    env = os.environ.get("DEC_NP_DATA")
    if env:
        return Path(env).expanduser()
    shared = HERE.parent.parent / "shared" / "data"
    return shared if _has_mnist(shared) else default_data_dir()


def load_data(n_samples=None, prefer_mnist=True, random_state=0):
    """Images for the tutorial: MNIST when it is there (and wanted), else the embedded digits.

    MNIST's 10,000 test images are read from :func:`data_dir`.  When they are missing there
    they are downloaded (md5-verified), except in fast mode (the test suite's mode: it must
    neither wait for nor depend on the network) and with ``DEC_NP_OFFLINE=1``; then the
    tutorial falls back to the embedded 8x8 digits and its first lines say so, with the
    command that fixes it.

    Returns ``X`` (N, d) float32 in [0, 1], ``y`` (N,), ``image_shape`` and a name.  With
    ``n_samples`` a random subset of that size is drawn (all classes kept).
    """
    X = None
    if prefer_mnist:
        folder = data_dir()
        download = not FAST and not _flag("DEC_NP_OFFLINE")
        if download and not _has_mnist(folder):
            print(f"MNIST is not in {folder / 'mnist'}: downloading its test split "
                  "(md5-verified; DEC_NP_OFFLINE=1 turns this off)")
        try:
            # the 10,000 test images: the usual "MNIST-10k" of quick DEC experiments
            X, y = load_mnist(folder, subset="test", download=download)
            shape, name = (28, 28), "MNIST (test split)"
        except (DatasetNotFoundError, OSError, ValueError) as exc:
            if isinstance(exc, ValueError):
                why = f"a file there is damaged: {exc}"
            elif download:
                why = "the download failed: " + str(exc).splitlines()[-1].strip()
            else:
                why = ("fast mode never downloads" if FAST
                       else "DEC_NP_OFFLINE=1 turns downloads off")
            print(f"MNIST not found in {folder / 'mnist'} ({why}); "
                  "falling back to the embedded 8x8 digits (load_digits).\n"
                  f"  To use MNIST, run once (1.7 MB into {folder}, md5-verified): python -c "
                  "\"from dec_np.datasets import load_mnist; load_mnist(subset='test')\"\n"
                  "  or point DEC_NP_DATA at a folder holding mnist/t10k-images-idx3-ubyte.gz "
                  "and mnist/t10k-labels-idx1-ubyte.gz")
    if X is None:
        X, y = load_digits()
        shape, name = (8, 8), "UCI digits (embedded, 8x8)"
    if n_samples is not None and n_samples < len(X):
        idx = np.sort(np.random.default_rng(random_state).choice(len(X), n_samples, replace=False))
        X, y = X[idx], y[idx]
    print(f"data: {name}, {X.shape[0]} images of {shape[0]}x{shape[1]}")
    return X, y, shape, name


# -- the lesson's frame -------------------------------------------------------------------
def start(tutorial):
    """Print which tutorial runs, in which mode, and whose exercise code it uses.

    ``tutorial`` is the file name without ``.py`` (e.g. ``"01_dense_layer"``); it also names
    the file of reference solutions, ``solutions/<tutorial>.py``.
    """
    _STATE["tutorial"] = tutorial
    whose = {"": "yours (the stubs until you fill them in)", "1": "the reference solutions",
             "mutant": "deliberately wrong copies of the solutions"}.get(SOLUTIONS, SOLUTIONS)
    print(f"tutorial {tutorial}, mode {MODE}; exercise code: {whose}")


def _solution(name):
    import importlib.util
    path = HERE / "solutions" / f"{_STATE['tutorial']}.py"
    spec = importlib.util.spec_from_file_location(f"solutions_{_STATE['tutorial']}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def _perturb(x):
    """A slightly wrong copy of a result: floats moved by 1%, integer labels shifted."""
    if isinstance(x, tuple):
        return tuple(_perturb(v) for v in x)
    if isinstance(x, list):
        return [_perturb(v) for v in x]
    if isinstance(x, dict):
        return {k: _perturb(v) for k, v in x.items()}
    if isinstance(x, (bool, np.bool_)) or x is None:
        return x
    if isinstance(x, (float, np.floating)):
        return x * 1.01 + 1e-3
    if isinstance(x, (int, np.integer)):
        return x + 1
    if hasattr(x, "dtype") and hasattr(x, "shape"):
        xp = sys.modules.get("cupy") if type(x).__module__.startswith("cupy") else np
        if xp.issubdtype(x.dtype, xp.floating):
            return x * x.dtype.type(1.01) + x.dtype.type(1e-3)
        if xp.issubdtype(x.dtype, xp.integer):
            return (x + 1) % (int(x.max()) + 2)
    return x


def _mutant(fn):
    """``fn`` with a perturbed result; a function that returns None (works in place) has its
    floating-point array arguments perturbed in place after the call instead."""
    def wrong(*args, **kwargs):
        out = fn(*args, **kwargs)
        if out is not None:
            return _perturb(out)
        for a in list(args) + list(kwargs.values()):
            for v in (a.values() if isinstance(a, dict) else [a]):
                if hasattr(v, "dtype") and np.issubdtype(v.dtype, np.floating) and v.ndim:
                    v *= v.dtype.type(1.01)
                    v += v.dtype.type(1e-3)
        return out
    wrong.__name__ = fn.__name__
    return wrong


def exercise(stub):
    """Mark ``stub`` as a function the student writes (a decorator).

    Returns the stub itself, unless ``DEC_NP_SOLUTIONS`` asks for the reference solution of
    the same name (``solutions/<tutorial>.py``) or for a wrong copy of it.
    """
    if not SOLUTIONS:
        return stub
    ref = _solution(stub.__name__)
    return _mutant(ref) if SOLUTIONS == "mutant" else ref


def _first_discrepancy(got, expected, rtol, atol, names=None, scale_atol=0.0):
    """None if ``got`` matches ``expected`` (arrays, numbers, or tuples/dicts of them), else
    a sentence naming the first tensor and element that differ.

    ``names`` names the members of a tuple result (``("dx", "dW", "db")``); a dict names its
    own.  ``scale_atol`` adds ``scale_atol * max|expected|`` of each tensor to its ``atol``:
    a tolerance relative to the tensor's scale, for float32 results whose small elements
    carry the rounding of the large ones."""
    if isinstance(expected, dict):
        if not isinstance(got, dict) or set(got) != set(expected):
            return f"expected a dict with keys {sorted(expected)}, got {got!r:.80}"
        for k in expected:
            bad = _first_discrepancy(got[k], expected[k], rtol, atol, None, scale_atol)
            if bad:
                return f"{k}: {bad}"
        return None
    if isinstance(expected, (tuple, list)):
        names = list(names) if names else [f"result {i}" for i in range(len(expected))]
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return (f"expected {len(expected)} results ({', '.join(names)}), "
                    f"got {got!r:.80}")
        for name, g, e in zip(names, got, expected):
            bad = _first_discrepancy(g, e, rtol, atol, None, scale_atol)
            if bad:
                return f"{name}: {bad}"
        return None
    from dec_np.backend import asnumpy
    g, e = np.asarray(asnumpy(got), dtype=float), np.asarray(asnumpy(expected), dtype=float)
    if g.shape != e.shape:
        return f"shape {g.shape}, expected {e.shape}"
    tol = atol + scale_atol * float(np.max(np.abs(e), initial=0.0))
    wrong = ~(np.abs(g - e) <= tol + rtol * np.abs(e))
    if not wrong.any():
        return None
    i = tuple(int(v) for v in np.argwhere(wrong)[0])
    where = f"at index {i}: " if i else ""
    return (f"{where}got {g[i]:.6g}, expected {e[i]:.6g} "
            f"({int(wrong.sum())} of {wrong.size} elements differ)")


def _max_rel_error(got, expected):
    from dec_np.backend import asnumpy
    if isinstance(expected, dict):
        return max(_max_rel_error(got[k], expected[k]) for k in expected)
    if isinstance(expected, (tuple, list)):
        return max(_max_rel_error(g, e) for g, e in zip(got, expected))
    g, e = np.asarray(asnumpy(got), dtype=float), np.asarray(asnumpy(expected), dtype=float)
    return float(np.max(np.abs(g - e) / np.maximum(1e-8, np.abs(g) + np.abs(e)), initial=0.0))


def check(name, compute, expected, rtol=1e-6, atol=1e-9, against="the reference", names=None,
          scale_atol=0.0):
    """Run the student's code and compare it with ``expected``; print PASS or FAIL.

    Parameters
    ----------
    name : str
        What is checked, e.g. ``"dense_backward: dx, dW, db"``.
    compute : callable
        Called with no arguments; returns the student's result (array, number, or a
        tuple/dict of them).  A ``NotImplementedError`` means "not written yet".
    expected : same structure as the result
        Computed independently: by finite differences or by the package's own code.
    rtol, atol : float
        Elementwise tolerance ``|got - expected| <= atol + rtol * |expected|``.
    against : str
        Where ``expected`` came from, for the message.
    names : str or sequence of str, optional
        The name of a single array result (``"q"``) or of a tuple result's members
        (``("dx", "dW", "db")``), so that a failure names the tensor.  A dict result is named
        by its keys.
    scale_atol : float
        Adds ``scale_atol * max|expected|`` of each tensor to ``atol`` (a tolerance relative
        to the tensor's scale, for float32 results).

    Returns
    -------
    bool, True when the check passed.
    """
    if isinstance(names, str):  # one array: a dict of one, so that messages name it
        compute, expected = (lambda c=compute, n=names: {n: c()}), {names: expected}
        names = None
    try:
        got = compute()
    except NotImplementedError as exc:
        print(f"[TODO] {name}: not written yet ({exc})")
        ok = False
    except Exception as exc:  # the student's code crashed: say how, keep the lesson going
        print(f"[FAIL] {name}: raised {type(exc).__name__}: {exc}")
        ok = False
    else:
        bad = _first_discrepancy(got, expected, rtol, atol, names, scale_atol)
        ok = bad is None
        if ok:
            print(f"[PASS] {name}: matches {against} "
                  f"(max relative error {_max_rel_error(got, expected):.1e})")
        else:
            print(f"[FAIL] {name}: differs from {against}, {bad}")
    _STATE["checks"].append((name, ok))
    return ok


def claim(text, holds, **numbers):
    """State a claim the lesson makes about its own numbers, and say whether it holds here.

    The test suite runs every tutorial and fails on any claim that does not hold.
    """
    shown = ", ".join(f"{k} = {v:.4g}" if isinstance(v, float) else f"{k} = {v}"
                      for k, v in numbers.items())
    tag = "claim holds" if holds else "CLAIM FALSE"
    print(f"[{tag}] {text}" + (f" ({shown})" if shown else ""))
    return bool(holds)


def summary():
    """Print how many of this tutorial's checks passed."""
    done = sum(ok for _, ok in _STATE["checks"])
    total = len(_STATE["checks"])
    print(f"exercises: {done} of {total} checks passed" +
          ("" if done == total else " (fill in the functions marked 'YOUR CODE')"))


def show(fig, name):
    """Save ``fig`` as ``figure_path(name)`` and show it: inline in a notebook, in a window
    where there is a display, not at all under a non-interactive backend (scripts, CI)."""
    import matplotlib
    import matplotlib.pyplot as plt
    fig.savefig(figure_path(name), dpi=100, bbox_inches="tight")
    print("wrote", figure_path(name))
    backend = matplotlib.get_backend().lower()
    if "inline" in backend or "ipympl" in backend or "widget" in backend:
        from IPython.display import display
        display(fig)
    elif backend not in ("agg", "pdf", "svg", "ps", "cairo", "template"):
        plt.show(block=False)
    plt.close(fig)

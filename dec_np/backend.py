"""Array backends: NumPy on the CPU, CuPy on an NVIDIA GPU, one code path for both.

Every numeric function in dec_np starts with ``xp = get_array_module(x)`` and then
uses ``xp`` only, in the CuPy/Chainer idiom.  CuPy is imported lazily: nothing in
the package needs it at import time.
"""
from __future__ import annotations

import os
import sys

import numpy as np

#: dtype used for training; checks use float64 (see :mod:`dec_np.gradcheck`).
DEFAULT_DTYPE = np.float32

_CUPY_HINT = (
    "install CuPy for your CUDA version, e.g. `pip install cupy-cuda12x` (CUDA 12), "
    "`pip install cupy-cuda11x` (CUDA 11) or `pip install \"dec-np[gpu]\"`, "
    "and make sure a GPU is visible (nvidia-smi)"
)


def get_array_module(*arrays):
    """Return :mod:`cupy` if any argument is a CuPy array, else :mod:`numpy`.

    Never imports CuPy: if CuPy was not imported yet no argument can be a CuPy
    array.
    """
    cupy = sys.modules.get("cupy")
    if cupy is not None:
        for a in arrays:
            if isinstance(a, cupy.ndarray):
                return cupy
    return np


def asnumpy(x):
    """Copy ``x`` to a host :class:`numpy.ndarray` (no copy if it is one already)."""
    cupy = sys.modules.get("cupy")
    if cupy is not None and isinstance(x, cupy.ndarray):
        return cupy.asnumpy(x)
    return np.asarray(x)


def default_backend():
    """The backend named by the environment variable ``DEC_NP_BACKEND`` ("numpy" if unset)."""
    return os.environ.get("DEC_NP_BACKEND", "numpy").strip().lower() or "numpy"


def get_backend(name=None):
    """Return the array module for ``name`` ("numpy" or "cupy"; None: :func:`default_backend`).

    Raises
    ------
    ValueError
        For an unknown name.
    RuntimeError
        If "cupy" is asked for but CuPy is not installed or no GPU is visible; the
        message says how to install it.
    """
    name = default_backend() if name is None else str(name).strip().lower()
    if name == "numpy":
        return np
    if name != "cupy":
        raise ValueError(f"backend must be 'numpy' or 'cupy', got {name!r}")
    try:
        import cupy
    except Exception as exc:  # ImportError, or a broken CUDA install
        raise RuntimeError(f"backend='cupy' needs CuPy, which could not be imported ({exc}); "
                           + _CUPY_HINT) from None
    try:
        n = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:
        raise RuntimeError(f"backend='cupy': CuPy is installed but no GPU is usable ({exc}); "
                           + _CUPY_HINT) from None
    if n < 1:
        raise RuntimeError("backend='cupy': CuPy is installed but no GPU is visible; " + _CUPY_HINT)
    return cupy


def gpu_available():
    """True if the CuPy backend can be used here (CuPy imports and sees a GPU)."""
    try:
        get_backend("cupy")
    except RuntimeError:
        return False
    return True


def to_device(x, xp, dtype=None):
    """Move a host or device array to the backend ``xp`` (optionally casting to ``dtype``)."""
    if xp is np:
        return np.asarray(asnumpy(x), dtype=dtype)
    return xp.asarray(x, dtype=dtype)


def default_rng(xp, seed=None):
    """A random generator that lives on the same device as ``xp``'s arrays.

    Only ``rng.random(size, dtype=...)`` is used on it (dropout masks), which
    NumPy's and CuPy's generators share.
    """
    return xp.random.default_rng(seed)


def seed_sequence(random_state):
    """Turn ``random_state`` (None, int or numpy Generator) into a host numpy Generator.

    Host randomness (weight init, batch order, k-means++ seeding) draws from it, so a
    fixed seed gives identical weights and batches on NumPy and CuPy.
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    return np.random.default_rng(random_state)

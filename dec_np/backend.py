"""Array backends: NumPy on the CPU, CuPy on an NVIDIA GPU, one code path for both.

Every numeric function in dec_np starts with ``xp = get_array_module(x)`` and then
uses ``xp`` only, in the CuPy/Chainer idiom.  CuPy is imported lazily: nothing in
the package needs it at import time.
"""
from __future__ import annotations

import os
import sys
from types import ModuleType
from typing import Any, Union

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

#: A :class:`numpy.ndarray`, or a ``cupy.ndarray`` on the GPU.  An alias of
#: :data:`typing.Any` in type hints, because CuPy is optional and never imported for them.
Array = Any
#: The array module: :mod:`numpy` or :mod:`cupy` (the ``xp`` of every numeric function).
ArrayModule = ModuleType
#: What ``random_state`` accepts: None (fresh entropy), an int seed, or a NumPy generator.
Seed = Union[None, int, np.random.Generator, np.random.RandomState]

#: dtype used for training; checks use float64 (see :mod:`dec_np.gradcheck`).
DEFAULT_DTYPE = np.float32

_CUPY_HINT = (
    "install CuPy for your CUDA version, e.g. `pip install cupy-cuda12x` (CUDA 12), "
    "`pip install cupy-cuda11x` (CUDA 11) or `pip install \"dec-np[gpu]\"`, "
    "and make sure a GPU is visible (nvidia-smi)"
)


def get_array_module(*arrays: Any) -> ArrayModule:
    """Return :mod:`cupy` if any argument is a CuPy array, else :mod:`numpy`.

    Never imports CuPy: if CuPy was not imported yet no argument can be a CuPy
    array.

    Parameters
    ----------
    *arrays : Array or any object
        The arrays a function works on; other objects (scalars, None) are ignored.

    Returns
    -------
    xp : module
        :mod:`cupy` if at least one argument is a ``cupy.ndarray``, else :mod:`numpy`.

    Examples
    --------
    >>> import numpy as np
    >>> from dec_np.backend import get_array_module
    >>> xp = get_array_module(np.zeros(3), 1.5)
    >>> xp.__name__
    'numpy'
    >>> float(xp.sqrt(xp.asarray(2.0)).round(4))
    1.4142
    """
    cupy = sys.modules.get("cupy")
    if cupy is not None:
        for a in arrays:
            if isinstance(a, cupy.ndarray):
                return cupy
    return np


def asnumpy(x: Any) -> np.ndarray:
    """Copy ``x`` to a host :class:`numpy.ndarray` (no copy if it is one already).

    Parameters
    ----------
    x : Array or array-like
        A CuPy array (copied from the device), a NumPy array (returned as is) or
        anything :func:`numpy.asarray` accepts.

    Returns
    -------
    ndarray
        The same values on the host, same shape and dtype.
    """
    cupy = sys.modules.get("cupy")
    if cupy is not None and isinstance(x, cupy.ndarray):
        return cupy.asnumpy(x)
    return np.asarray(x)


def default_backend() -> str:
    """The backend named by the environment variable ``DEC_NP_BACKEND`` ("numpy" if unset).

    Returns
    -------
    str
        The variable's value, stripped and lower-cased; "numpy" when it is unset or empty.
    """
    return os.environ.get("DEC_NP_BACKEND", "numpy").strip().lower() or "numpy"


def get_backend(name: str | None = None) -> ArrayModule:
    """Return the array module for ``name`` ("numpy" or "cupy"; None: :func:`default_backend`).

    Parameters
    ----------
    name : {"numpy", "cupy"} or None, default None
        The backend, case-insensitive; None takes :func:`default_backend`.

    Returns
    -------
    xp : module
        :mod:`numpy`, or :mod:`cupy` (imported here, the only place that imports it).

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


def gpu_available() -> bool:
    """True if the CuPy backend can be used here (CuPy imports and sees a GPU).

    Returns
    -------
    bool
        Whether ``get_backend("cupy")`` succeeds.
    """
    try:
        get_backend("cupy")
    except RuntimeError:
        return False
    return True


def to_device(x: Any, xp: ArrayModule, dtype: DTypeLike | None = None) -> Array:
    """Move a host or device array to the backend ``xp`` (optionally casting to ``dtype``).

    Parameters
    ----------
    x : Array or array-like
        The values to move, on either device.
    xp : module
        The target backend, :mod:`numpy` or :mod:`cupy`.
    dtype : dtype, optional
        Cast to this dtype; None keeps ``x``'s dtype.

    Returns
    -------
    Array
        An ``xp`` array with the values of ``x``, C-contiguous when it has two or more
        dimensions (``x`` itself when nothing changes): mini-batches then read whole rows,
        and the products give the same bits whatever the layout ``x`` came in (a pandas
        DataFrame's values, say, are column-major).

    Examples
    --------
    >>> x = to_device(np.asfortranarray(np.ones((3, 2))), np, np.float32)
    >>> x.dtype, x.flags.c_contiguous
    (dtype('float32'), True)
    """
    out = np.asarray(asnumpy(x), dtype=dtype) if xp is np else xp.asarray(x, dtype=dtype)
    if out.ndim > 1 and not out.flags.c_contiguous:
        out = xp.ascontiguousarray(out)
    return out


def default_rng(xp: ArrayModule, seed: int | None = None) -> Any:
    """A random generator that lives on the same device as ``xp``'s arrays.

    Only ``rng.random(size, dtype=...)`` is used on it (dropout masks), which
    NumPy's and CuPy's generators share.

    Parameters
    ----------
    xp : module
        :mod:`numpy` or :mod:`cupy`.
    seed : int or None, default None
        Seed of the generator; None draws fresh entropy.

    Returns
    -------
    numpy.random.Generator or cupy.random.Generator
        ``xp.random.default_rng(seed)``.
    """
    return xp.random.default_rng(seed)


def seed_sequence(random_state: Seed) -> np.random.Generator:
    """Turn ``random_state`` (None, int or numpy Generator) into a host numpy Generator.

    Host randomness (weight init, batch order, k-means++ seeding) draws from it, so a
    fixed seed gives identical weights and batches on NumPy and CuPy.

    Parameters
    ----------
    random_state : None, int, numpy.random.Generator or numpy.random.RandomState
        A Generator is returned as is (so callers share its stream); a legacy
        RandomState seeds a new Generator with one draw; None or an int seed
        :func:`numpy.random.default_rng`.

    Returns
    -------
    numpy.random.Generator
        The generator to draw from.
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    return np.random.default_rng(random_state)


def _address(a: Array) -> int:
    """Where the first element of ``a`` lies: a device pointer for CuPy, a host one for NumPy."""
    ptr = getattr(a.data, "ptr", None)  # cupy.cuda.MemoryPointer; a NumPy array's is a memoryview
    return int(ptr) if ptr is not None else int(a.__array_interface__["data"][0])


def _owner(a: Array) -> Any:
    """The array of ``a``'s own type that ``a`` is a view of (``a`` itself if none is)."""
    base = getattr(a, "base", None)
    while type(base) is type(a):
        a, base = base, getattr(base, "base", None)
    return a


def end_to_end(arrays: list[Array]) -> list[Array]:
    """Copies of ``arrays`` laid end to end in one new flat buffer: views of it, in order.

    An update that runs once over the buffer (:func:`joined`) then touches every array,
    which on a GPU is one kernel launch where one per array would be many.

    Parameters
    ----------
    arrays : list of Array
        Arrays of one array module and one dtype, any shapes.

    Returns
    -------
    list of Array
        C-contiguous views of one buffer, of the shapes and values of ``arrays``.

    Examples
    --------
    >>> a, b = end_to_end([np.ones((2, 3)), np.zeros(4)])
    >>> joined([a, b]).shape, a.shape, b.shape
    ((10,), (2, 3), (4,))
    """
    if not arrays:
        return []
    xp = get_array_module(*arrays)
    flat = xp.empty(sum(int(a.size) for a in arrays), dtype=arrays[0].dtype)
    views, start = [], 0
    for a in arrays:
        view = flat[start:start + a.size].reshape(a.shape)
        view[...] = a
        views.append(view)
        start += a.size
    return views


def follows(a: Array, b: Array) -> bool:
    """Whether ``b`` starts where ``a`` ends, both C-contiguous, in one buffer of one dtype.

    Parameters
    ----------
    a, b : Array
        Two arrays of one array module.

    Returns
    -------
    bool
        True when they lie so; :func:`joined` then joins ``[a, b]`` if their buffer is one
        flat array.

    Examples
    --------
    >>> a, b = end_to_end([np.ones(2), np.zeros(3)])
    >>> follows(a, b), follows(b, a)
    (True, False)
    """
    return (a.dtype == b.dtype and a.flags.c_contiguous and b.flags.c_contiguous
            and _owner(a) is _owner(b) and _address(a) + a.nbytes == _address(b))


def joined(arrays: list[Array]) -> Array | None:
    """One flat view over ``arrays`` when each starts where the one before it ends in a
    single buffer (as :func:`end_to_end` lays them), else None.

    Parameters
    ----------
    arrays : list of Array
        C-contiguous arrays, in buffer order.

    Returns
    -------
    Array or None
        The 1-D view whose elements are those of ``arrays`` one after the other, sharing
        their memory; None when they do not lie so.

    Examples
    --------
    >>> a, b = end_to_end([np.ones(2), np.zeros(3)])
    >>> joined([a, b]).shape, joined([b, a]) is None
    ((5,), True)
    """
    if not arrays:
        return None
    first, owner = arrays[0], _owner(arrays[0])
    if getattr(owner, "ndim", None) != 1 or not owner.flags.c_contiguous \
            or owner.dtype != first.dtype:
        return None
    end = _address(first)
    for a in arrays:
        if a.dtype != first.dtype or not a.flags.c_contiguous or _owner(a) is not owner \
                or _address(a) != end:
            return None
        end += a.nbytes
    start = (_address(first) - _address(owner)) // owner.itemsize
    return owner[start:start + (end - _address(first)) // owner.itemsize]

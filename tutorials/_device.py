"""A pretend GPU for tutorial 08: arrays that refuse every NumPy call on their data.

``DeviceArray`` boxes a NumPy array: operators and array methods work (``x + y``,
``x.max(axis=1)``, ``x.T``), NumPy's functions do not (``__array_ufunc__ = None``;
``__array_function__`` and ``__array__`` raise TypeError), and a host array of one or more
dimensions mixed into one is refused.  ``PretendDevice`` is the module of such arrays in the
role of ``cupy`` (``xp.exp``, ``xp.zeros``, ``xp.asarray``).  While ``pretend_device()`` is
active it sits in ``sys.modules["cupy"]``, so ``dec_np.backend.get_array_module`` hands it
out exactly as it would hand out CuPy.  It is stricter than CuPy on purpose (CuPy forwards
``np.exp``); ``tests/test_strict_backend.py`` runs the package on a milder cousin of it.
"""
from __future__ import annotations

import sys
import types
from contextlib import contextmanager

import numpy as np


def _device_memory(obj):
    """What a DeviceArray holds; scalars pass; a host array of 1 or more dimensions is refused."""
    if isinstance(obj, DeviceArray):
        return obj.data
    if isinstance(obj, (tuple, list)):
        return type(obj)(_device_memory(o) for o in obj)
    if isinstance(obj, np.ndarray) and obj.ndim > 0:
        raise TypeError(f"a host numpy.ndarray {obj.shape} mixed with device arrays")
    return obj


def _on_device(fn):
    """fn applied to device memory, its array results boxed as DeviceArrays again."""
    def call(*args, **kwargs):
        out = fn(*_device_memory(args), **{k: _device_memory(v) for k, v in kwargs.items()})
        return DeviceArray(out) if isinstance(out, np.ndarray) else out
    return call


class DeviceArray:
    """An array in pretend device memory: array methods and operators work, NumPy's don't."""
    __array_ufunc__ = None  # np.exp(d), np.maximum(d, 0), host_array + d: TypeError

    def __init__(self, data):
        self.data = data

    def __array__(self, *args, **kwargs):
        raise TypeError("implicit conversion of a device array to a NumPy array is not allowed;"
                        " use asnumpy")

    def __array_function__(self, func, types, args, kwargs):
        raise TypeError(f"np.{func.__name__} on a device array: use xp.{func.__name__}")

    def __getattr__(self, name):  # shape, dtype, .T, .sum(axis=1), .max(...), .astype(...)
        if name.startswith("__"):  # no __array_interface__: NumPy must not see the memory
            raise AttributeError(name)
        attr = getattr(self.data, name)
        return _on_device(attr) if callable(attr) else _on_device(lambda: attr)()

    def __getitem__(self, key):
        return _on_device(self.data.__getitem__)(key)

    def __setitem__(self, key, value):
        self.data[_device_memory(key)] = _device_memory(value)

    def __len__(self):
        return len(self.data)

    def __float__(self):
        return float(self.data)


for _op in ("add", "sub", "mul", "truediv", "pow", "matmul"):
    for _name in (f"__{_op}__", f"__r{_op}__"):
        setattr(DeviceArray, _name, lambda self, other, _n=_name: _on_device(
            getattr(self.data, _n))(other))
    # in place: the device memory itself changes, as in CuPy
    setattr(DeviceArray, f"__i{_op}__", lambda self, other, _n=f"__i{_op}__": (
        getattr(self.data, _n)(_device_memory(other)), self)[1])
for _op in ("lt", "le", "gt", "ge", "eq", "ne"):
    setattr(DeviceArray, f"__{_op}__", lambda self, other, _n=f"__{_op}__": _on_device(
        getattr(self.data, _n))(other))
DeviceArray.__neg__ = lambda self: DeviceArray(-self.data)


class PretendDevice(types.ModuleType):
    """The array module of DeviceArrays, in the role of cupy (xp.exp, xp.zeros, xp.asarray)."""
    ndarray = DeviceArray

    def __getattr__(self, name):
        obj = getattr(np, name)
        if isinstance(obj, type) or not callable(obj):
            return obj  # dtypes, finfo, newaxis
        if name in ("asarray", "array"):  # the way onto the device (a host copy is fine here)
            return lambda a, *args, **kw: DeviceArray(np.array(a.data if isinstance(
                a, DeviceArray) else a, *args, **kw))
        return _on_device(obj)

    @staticmethod
    def asnumpy(x):
        return x.data.copy() if isinstance(x, DeviceArray) else np.asarray(x)


@contextmanager
def pretend_device():
    """For the duration: sys.modules["cupy"] is the pretend device (the real one restored)."""
    saved = sys.modules.get("cupy")
    sys.modules["cupy"] = PretendDevice("pretend_cupy")
    try:
        yield sys.modules["cupy"]
    finally:
        if saved is None:
            del sys.modules["cupy"]
        else:
            sys.modules["cupy"] = saved


def on_pretend_device(fn, *host_arrays):
    """fn on copies of ``host_arrays`` in pretend device memory; its result(s) on the host.

    Raises TypeError where fn used NumPy on the data or returned a host array."""
    with pretend_device():
        out = fn(*[DeviceArray(np.array(a)) for a in host_arrays])
    for o in out if isinstance(out, tuple) else (out,):
        if not isinstance(o, DeviceArray):
            raise TypeError(f"{getattr(fn, '__name__', 'fn')} returned a "
                            f"{type(o).__module__}.{type(o).__name__}, not a device array")
    return tuple(o.data for o in out) if isinstance(out, tuple) else out.data

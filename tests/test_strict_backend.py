"""CPU-only checks that the numeric code would not break on device (CuPy) arrays.

``StrictArray`` is a NumPy array that, like a CuPy array, refuses to be mixed with a plain
host ``numpy.ndarray`` in an operation (Python scalars, NumPy scalars and 0-d arrays are
fine).  A fake array module returns StrictArrays from every function, and
``get_array_module`` / ``get_backend`` are patched to hand it out for StrictArray data or
``backend="strict"``.  Running layers, the SAE, the optimiser, DEC's math, k-means and DEC on
such data then fails wherever numeric code silently used host NumPy.  A static test lists
every ``np.<name>`` in the numeric modules against a reviewed allowlist.
"""
import ast
from pathlib import Path

import numpy as np
import pytest

import dec_np
from dec_np import (augment, autoencoder, dec, dec_math, gradcheck, kmeans, layers, losses,
                    neighbours, optim, threads)


class StrictArray(np.ndarray):
    """A host array that behaves like a device array: no silent mixing with numpy.ndarray."""

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        _refuse((inputs, out, kwargs), f"{ufunc.__name__}.{method}")
        kwargs = _plain(kwargs)
        if out is not None:
            kwargs["out"] = _plain(out)
        res = getattr(ufunc, method)(*_plain(inputs), **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _wrap(res)

    def __array_function__(self, func, types, args, kwargs):
        _refuse((args, kwargs), func.__name__)
        return _wrap(func(*_plain(args), **_plain(kwargs)))

    def __getitem__(self, key):
        _refuse(key, "indexing")
        return _wrap(super().__getitem__(_plain(key)))


def _refuse(obj, what):
    """TypeError if ``obj`` holds a plain ndarray of 1 or more dimensions (nested in tuples etc.)."""
    if isinstance(obj, np.ndarray):
        if not isinstance(obj, StrictArray) and obj.ndim > 0:
            raise TypeError(f"{what}: a host numpy.ndarray {obj.shape} mixed with device arrays")
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            _refuse(o, what)
    elif isinstance(obj, dict):
        for o in obj.values():
            _refuse(o, what)


def _plain(obj):
    if isinstance(obj, StrictArray):
        return obj.view(np.ndarray)
    if isinstance(obj, (list, tuple)):
        return type(obj)(_plain(o) for o in obj)
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    return obj


def _wrap(obj):
    if isinstance(obj, np.ndarray) and not isinstance(obj, StrictArray):
        return obj.view(StrictArray)
    if isinstance(obj, tuple):
        return tuple(_wrap(o) for o in obj)
    if isinstance(obj, list):
        return [_wrap(o) for o in obj]
    return obj


class _Proxy:
    """Forwards attribute access to ``target``; callables return StrictArrays."""

    def __init__(self, target):
        self._target = target

    def __getattr__(self, name):
        obj = getattr(self._target, name)
        if isinstance(obj, (type, np.dtype)) or not callable(obj):
            return obj  # dtypes, finfo, constants
        return lambda *a, **k: _wrap_rng(_wrap(obj(*a, **k)))


def _wrap_rng(obj):
    return _Proxy(obj) if isinstance(obj, np.random.Generator) else obj


class FakeDeviceModule(_Proxy):
    """An array module in the role of cupy: every function returns StrictArrays."""

    def __init__(self):
        super().__init__(np)
        self.random = _Proxy(np.random)


XP = FakeDeviceModule()


@pytest.fixture
def strict(monkeypatch):
    """Patch every dec_np module so StrictArray data (or backend="strict") selects XP."""
    from dec_np import backend

    orig_gam, orig_gb = backend.get_array_module, backend.get_backend

    def get_array_module(*arrays):
        return XP if any(isinstance(a, StrictArray) for a in arrays) else orig_gam(*arrays)

    def get_backend(name=None):
        return XP if name == "strict" else orig_gb(name)

    for mod in (backend, layers, losses, optim, dec_math, kmeans, autoencoder, dec,
                gradcheck, augment, threads, neighbours):
        if hasattr(mod, "get_array_module"):
            monkeypatch.setattr(mod, "get_array_module", get_array_module)
        if hasattr(mod, "get_backend"):
            monkeypatch.setattr(mod, "get_backend", get_backend)
    return XP


def _s(a, dtype=np.float32):
    return np.asarray(a, dtype=dtype).view(StrictArray)


def _all_strict(*arrays):
    return all(isinstance(a, StrictArray) for a in arrays)


# -- the StrictArray itself ----------------------------------------------------------------
def test_strict_array_refuses_host_arrays():
    a = _s(np.ones((2, 3)))
    for bad in (lambda: a + np.ones(3), lambda: np.matmul(a, np.ones((3, 2))),
                lambda: np.concatenate([a, np.ones((1, 3))]), lambda: a[np.array([0, 1])],
                lambda: np.maximum(a, 0, out=np.empty((2, 3)))):
        with pytest.raises(TypeError):
            bad()
    assert _all_strict(a + 1.0, a * np.float32(2), a + np.array(1.0), a.sum(axis=0),
                       a.max(axis=1, keepdims=True), a.T @ a, np.concatenate([a, a]), XP.zeros(3),
                       XP.random.default_rng(0).random((2, 2), dtype=np.float32))


# -- the numeric modules on device-like arrays -----------------------------------------------
def test_layers_on_strict(strict):
    rng = np.random.default_rng(0)
    net = layers.Sequential(layers.Dropout(0.2, random_state=0),
                            layers.Dense(6, 5, init_std=0.5, xp=strict, random_state=1),
                            layers.ReLU(), layers.Dropout(0.2, random_state=2),
                            layers.Dense(5, 4, init_std=0.5, xp=strict, random_state=3))
    x = _s(rng.standard_normal((7, 6)))
    out = net.forward(x, train=True)
    dx = net.backward(strict.ones_like(out))
    assert _all_strict(out, dx, *net.params.values(), *net.grads.values())
    assert out.dtype == dx.dtype == np.float32
    loss, dout = losses.mse(out, _s(rng.standard_normal((7, 4))))
    assert _all_strict(dout) and dout.dtype == loss.dtype == np.float32 and np.isfinite(float(loss))
    assert net.backward(dout, need_dx=False) is None
    opt = optim.SGD(0.1, momentum=0.9, weight_decay=1e-3)
    for _ in range(3):
        opt.step(net.params, net.grads)
    assert _all_strict(*net.params.values(), *opt.velocity.values())


def test_autoencoder_on_strict(strict):
    X = _s(np.random.default_rng(0).random((40, 12)))
    sae = autoencoder.StackedAutoencoder((12, 8, 6, 3), backend="strict", random_state=0)
    sae.pretrain_layerwise(X, iterations=3, batch_size=16, lr=0.01)
    sae.finetune(X, iterations=4, batch_size=16, lr=0.01)
    z = sae.encode(X, batch_size=16)
    assert _all_strict(z, sae.decode(z), *sae.params.values(), *sae.grads.values())
    assert z.dtype == np.float32 and z.shape == (40, 3)
    assert all(np.isfinite(v).all() for h in sae.history_.values() for v in h)
    assert np.isfinite(sae.reconstruction_loss(X))


def test_augment_on_strict(strict):
    """Shifted batches stay on the device, and fine-tuning on them too."""
    X = _s(np.random.default_rng(0).random((40, 16)))
    out = augment.random_shift(X, (4, 4), 1, np.random.default_rng(0))
    assert _all_strict(out) and out.dtype == np.float32 and out.shape == (40, 16)
    out = augment.random_rotate(X, (4, 4), 10.0, np.random.default_rng(0))
    assert _all_strict(out) and out.dtype == np.float32 and out.shape == (40, 16)
    out = augment.random_mask(X, 0.2, np.random.default_rng(0))
    assert _all_strict(out) and out.dtype == np.float32 and out.shape == (40, 16)
    nbr = neighbours.nearest_neighbours(X, 3, block=7)
    assert _all_strict(nbr) and nbr.shape == (40, 3)
    rows = augment.neighbour_rows(_s(np.arange(10)).astype(np.int64), nbr, np.random.default_rng(0))
    assert _all_strict(rows) and rows.shape == (10,)
    sae = autoencoder.StackedAutoencoder((16, 8, 3), backend="strict", random_state=0)
    sae.finetune(X, iterations=3, batch_size=16, lr=0.01,
                 augment=augment.shifter((4, 4), 0.25, rotate=10.0))
    assert _all_strict(*sae.params.values()) and np.isfinite(sae.history_["finetune"]).all()


def test_dec_math_on_strict(strict):
    rng = np.random.default_rng(0)
    z, mu = _s(rng.standard_normal((9, 3))), _s(rng.standard_normal((4, 3)))
    q = dec_math.soft_assignment(z, mu)
    p = dec_math.target_distribution(q)
    dz, dmu = dec_math.kl_gradients(z, mu, p, q)
    assert _all_strict(q, p, dz, dmu)
    assert q.dtype == p.dtype == dz.dtype == dmu.dtype == np.float32
    assert np.isfinite(dec_math.kl_divergence(p, q))


def test_kmeans_on_strict(strict):
    rng = np.random.default_rng(0)
    X = _s(np.concatenate([rng.standard_normal((30, 2)) + c for c in ((0, 0), (8, 8), (0, 8))]))
    centers, labels, inertia = kmeans.kmeans(X, 3, n_init=2, random_state=0)
    assert _all_strict(centers, labels) and centers.dtype == np.float32
    assert np.isfinite(inertia) and len(set(labels.tolist())) == 3
    assert _all_strict(kmeans.KMeans(3, n_init=1, random_state=0).fit(X).predict(X))


def test_dec_on_strict(strict):
    X = np.random.default_rng(0).random((60, 12), dtype=np.float32)
    sae = autoencoder.StackedAutoencoder((12, 8, 3), backend="strict", random_state=0)
    sae.finetune(_s(X), iterations=3, batch_size=16, lr=0.01)
    est = dec.DEC(3, autoencoder=sae, backend="strict", batch_size=16, update_interval=5,
                  max_iter=12, n_init=2, random_state=0).fit(X)
    assert est.labels_.shape == (60,) and _all_strict(est._mu) and est._mu.dtype == np.float32
    assert _all_strict(est.autoencoder_.encoders[0].params["W"])
    # the clustering phase on shifted images (augment) stays on the device too
    sae = autoencoder.StackedAutoencoder((16, 8, 3), backend="strict", random_state=0)
    sae.finetune(_s(X16 := np.random.default_rng(1).random((60, 16), dtype=np.float32)),
                 iterations=3, batch_size=16, lr=0.01)
    est = dec.DEC(3, autoencoder=sae, backend="strict", batch_size=16, update_interval=5,
                  max_iter=12, n_init=2, random_state=0, image_shape=(4, 4),
                  augment={"shift": 0.25, "rotate": 10.0}).fit(X16)
    assert est.labels_.shape == (60,) and _all_strict(est._mu)
    # and on masked rows of any kind, and on neighbours' rows
    for aug in ({"mask": 0.2}, {"neighbours": 3}):
        est = dec.DEC(3, autoencoder=sae, backend="strict", batch_size=16, update_interval=5,
                      max_iter=12, n_init=2, random_state=0, augment=aug).fit(X16)
        assert est.labels_.shape == (60,) and _all_strict(est._mu)


# -- static review of host NumPy calls ------------------------------------------------------
DTYPES = {"float32", "float64", "int64", "integer", "floating", "number", "dtype", "ndarray",
          "bool_"}
#: Every ``np.<name>`` allowed in the numeric modules, with why it is host-side.
ALLOWED = {
    "layers": {"sqrt"},  # a scalar: the Glorot limit, computed on the host
    "losses": set(),
    "optim": set(),
    "dec_math": set(),
    # check_array wraps a list input; the loss is a host float; np.random via seed_sequence;
    # errstate only silences NumPy's own overflow warnings while a stage trains
    "autoencoder": {"asarray", "isfinite", "isscalar", "errstate"},
    "augment": set(),
    "neighbours": set(),
    # input scaling on asnumpy(X); the loss and labels of a target update are host values;
    # np.random: the host generator of a clustering step's shifts (augment), as for batches
    "dec": {"einsum", "mean", "sqrt", "isfinite", "bincount", "random"},
    # _argmin_axis0's numpy-only branch (xp is np); cluster counts and log k on the host
    "kmeans": {"min_scalar_type", "zeros", "empty", "less", "minimum", "maximum",
               "flatnonzero", "log"},
}


def _np_uses(path):
    tree = ast.parse(path.read_text())
    return {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name) and node.value.id == "np"}


@pytest.mark.parametrize("module", sorted(ALLOWED))
def test_numeric_modules_use_host_numpy_only_where_reviewed(module):
    path = Path(dec_np.__file__).parent / f"{module}.py"
    new = _np_uses(path) - DTYPES - ALLOWED[module]
    assert not new, (f"dec_np/{module}.py calls np.{sorted(new)}: use xp = get_array_module(...) "
                     "for data that may live on the GPU, or add the name to ALLOWED with a reason")

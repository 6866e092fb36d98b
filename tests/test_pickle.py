"""Fitted models pickle and joblib-dump: host NumPy arrays and the backend's name, never the
array module; a device (CuPy) model is checked on the CPU with the strict fake device module
of test_strict_backend."""
import io
import pickle
import warnings

import numpy as np
import pytest

from dec_np import DEC, StackedAutoencoder, autoencoder
from test_strict_backend import StrictArray, XP, strict  # noqa: F401  (strict is a fixture)

TINY = {"model": {"p_drop": 0.0, "init_std": "glorot", "loss_reduction": "mean"},
        "input_scaling": "max", "layerwise": None,
        "finetune": {"iterations": 30, "batch_size": 16, "lr": 1e-2, "optimizer": "adam"}}


def _X(n=60, d=8, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.random((n, d)) + np.repeat(np.eye(3, d) * 3, n // 3, axis=0)).astype(np.float32)


def _fitted(**kw):
    return DEC(3, hidden_dims=(6, 2), schedule=TINY, n_init=2, max_iter=20, update_interval=10,
               batch_size=16, random_state=0, **kw).fit(_X())


def test_fitted_dec_pickles_and_predicts_the_same():
    model = _fitted()
    back = pickle.loads(pickle.dumps(model))
    X = _X(seed=1)
    np.testing.assert_array_equal(back.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(back.labels_, model.labels_)
    assert repr(back) == repr(model) and back.n_features_in_ == 8
    assert back.autoencoder_.xp is np and back._mu.dtype == np.float32


def test_fitted_dec_and_autoencoder_joblib_dump():
    joblib = pytest.importorskip("joblib")
    model = _fitted()
    for obj in (model, model.autoencoder_):
        buf = io.BytesIO()
        joblib.dump(obj, buf)
        buf.seek(0)
        back = joblib.load(buf)
        if isinstance(obj, DEC):
            np.testing.assert_array_equal(back.predict(_X()), obj.predict(_X()))
        else:
            np.testing.assert_array_equal(back.encode(_X()), obj.encode(_X()))


def test_autoencoder_state_holds_host_arrays_and_a_name_and_trains_after_loading():
    sae = StackedAutoencoder((8, 5, 2), random_state=0)
    sae.finetune(_X(), epochs=1)  # fills gradients and caches
    state = sae.__getstate__()
    assert state["xp"] == "numpy"
    for layer in state["encoders"] + state["decoders"]:
        assert layer.cache is None and layer.grads == {}
        assert all(type(v) is np.ndarray for v in layer.params.values())
    assert sae.encoders[0].grads and sae.encoders[0].cache is not None  # the model is untouched
    back = pickle.loads(pickle.dumps(sae))
    np.testing.assert_array_equal(back.encode(_X()), sae.encode(_X()))
    a = back.finetune(_X(), epochs=2)
    b = sae.finetune(_X(), epochs=2)
    assert a == b  # same weights, same generator state: the same training


def test_device_model_pickles_to_host_arrays_and_loads_on_numpy(strict, monkeypatch):
    """A model on the fake device module (the role of CuPy) pickles to plain NumPy arrays and
    the name "cupy"; where CuPy cannot be used it loads on NumPy with a warning."""
    X = np.random.default_rng(0).random((60, 12), dtype=np.float32)
    sae = StackedAutoencoder((12, 8, 3), backend="strict", random_state=0)
    sae.finetune(X.view(StrictArray), iterations=3, batch_size=16, lr=0.01)
    model = DEC(3, autoencoder=sae, backend="strict", batch_size=16, update_interval=5,
                max_iter=10, n_init=2, random_state=0).fit(X)
    assert isinstance(model._mu, StrictArray)
    state = model.autoencoder_.__getstate__()
    assert state["xp"] == "cupy"
    assert all(type(v) is np.ndarray for l in state["encoders"] for v in l.params.values())
    assert type(model.__getstate__()["_mu"]) is np.ndarray
    blob = pickle.dumps(model)

    def no_cupy(name=None):
        if name == "cupy":
            raise RuntimeError("backend='cupy' needs CuPy")
        return np
    monkeypatch.setattr(autoencoder, "get_backend", no_cupy)
    monkeypatch.delenv("DEC_NP_BACKEND", raising=False)
    with pytest.warns(RuntimeWarning, match="pickled on cupy.*loaded on numpy"):
        back = pickle.loads(blob)
    assert back.autoencoder_.xp is np and type(back._mu) is np.ndarray
    expect = np.asarray(model.predict_proba(X))
    np.testing.assert_allclose(back.predict_proba(X), expect, rtol=1e-6, atol=1e-7)

    # where CuPy is usable, it goes back onto the device
    monkeypatch.setattr(autoencoder, "get_backend", lambda name=None: XP if name == "cupy" else np)
    again = pickle.loads(blob)
    assert again.autoencoder_.xp is XP and isinstance(again._mu, StrictArray)
    assert isinstance(again.autoencoder_.encoders[0].params["W"], StrictArray)
    # and $DEC_NP_BACKEND chooses explicitly
    monkeypatch.setenv("DEC_NP_BACKEND", "numpy")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert pickle.loads(blob).autoencoder_.xp is np


def test_unfitted_dec_pickles():
    back = pickle.loads(pickle.dumps(DEC(4, random_state=1)))
    assert back.get_params() == DEC(4, random_state=1).get_params()

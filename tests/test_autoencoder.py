import numpy as np
import pytest

from dec_np.autoencoder import StackedAutoencoder
from dec_np.backend import asnumpy, to_device
from dec_np.gradcheck import check_params
from dec_np.layers import Sequential
from dec_np.losses import mse


def _sae_loss_and_grads(sae, x, net):
    def f():
        out = net.forward(x, train=True)
        loss, dout = mse(out, x)
        net.backward(dout)
        return loss, sae.grads
    return f


def test_whole_sae_gradients_float64(xp):
    backend = "cupy" if xp is not np else "numpy"
    sae = StackedAutoencoder(dims=(6, 8, 7, 3), init_std=0.5, dtype=np.float64, backend=backend,
                             random_state=0)
    x = xp.asarray(np.random.default_rng(1).standard_normal((10, 6)))
    net = Sequential(*sae.encoder().layers, *sae.decoder().layers)
    f = _sae_loss_and_grads(sae, x, net)
    assert all(float(abs(g).sum()) > 0 for g in f()[1].values())  # no tensor is trivially dead
    errors = check_params(f, sae.params)
    assert len(errors) == 12
    assert max(errors.values()) < 1e-6, errors


def test_layer_pair_with_dropout_gradients(xp):
    backend = "cupy" if xp is not np else "numpy"
    sae = StackedAutoencoder(dims=(6, 5, 4), init_std=0.5, dtype=np.float64, backend=backend,
                             random_state=0)
    x = xp.abs(xp.asarray(np.random.default_rng(2).standard_normal((8, 5))))
    net = sae.layer_pair(1)
    for layer in net.layers:
        layer.freeze_mask = True
    errors = check_params(_sae_loss_and_grads(sae, x, net),
                          {k: v for k, v in sae.params.items() if k[3] == "1"})
    assert max(errors.values()) < 1e-6, errors


def test_layer_pair_structure():
    sae = StackedAutoencoder(dims=(8, 6, 4, 2), random_state=0)
    names = [[type(l).__name__ for l in sae.layer_pair(i).layers] for i in range(3)]
    assert names[0] == ["Dense", "ReLU", "Dropout", "Dense"]          # raw input not dropped
    assert names[1] == ["Dropout", "Dense", "ReLU", "Dropout", "Dense", "ReLU"]
    assert names[2] == ["Dropout", "Dense", "Dense", "ReLU"]          # linear, undropped z


def test_shapes_and_dtype():
    sae = StackedAutoencoder(dims=(12, 8, 3), random_state=0)
    X = np.random.default_rng(0).random((20, 12))
    z = sae.encode(X)
    assert z.shape == (20, 3) and z.dtype == np.float32
    assert sae.decode(z).shape == (20, 12)
    assert sae.reconstruct(X).shape == (20, 12)


def test_training_is_reproducible():
    X = np.random.default_rng(0).random((64, 10)).astype(np.float32)
    runs = []
    for _ in range(2):
        sae = StackedAutoencoder(dims=(10, 8, 4), random_state=3)
        sae.pretrain_layerwise(X, epochs=2, batch_size=16)
        sae.finetune(X, epochs=2, batch_size=16)
        runs.append(asnumpy(sae.encode(X)))
    np.testing.assert_array_equal(runs[0], runs[1])


@pytest.mark.parametrize("bad, match", [
    (np.full((5, 10), np.nan), "NaN"),
    (np.ones((5, 9)), "features"),
    (np.ones(10), "2-D"),
    (np.array([[np.inf] * 10]), "NaN or inf"),
])
def test_bad_input(bad, match):
    sae = StackedAutoencoder(dims=(10, 4), random_state=0)
    for method in (sae.encode, lambda X: sae.finetune(X, epochs=1), lambda X: sae.pretrain_layerwise(X, epochs=1)):
        with pytest.raises(ValueError, match=match):
            method(bad)


def test_bad_settings():
    with pytest.raises(ValueError, match="p_drop"):
        StackedAutoencoder(dims=(10, 4), p_drop=1.0)
    sae = StackedAutoencoder(dims=(10, 4))
    with pytest.raises(ValueError, match="exactly one"):
        sae.finetune(np.ones((4, 10)), epochs=1, iterations=5)


def test_pretraining_on_mnist_lowers_loss(data_dir):
    from dec_np.datasets import load_mnist
    X, _ = load_mnist(data_dir=data_dir, subset="test", scaling="paper")
    X = X[:2000]
    sae = StackedAutoencoder(dims=(784, 128, 64, 10), loss_reduction="mean", random_state=0)
    start = sae.reconstruction_loss(X)
    sae.pretrain_layerwise(X, epochs=3, lr=2.0)
    after_layerwise = sae.reconstruction_loss(X)
    sae.finetune(X, epochs=3, lr=1.0)
    end = sae.reconstruction_loss(X)
    # measured (seeds 0-2, NumPy): start 0.450, after layer-wise 0.22-0.27, after fine-tuning 0.18-0.21
    assert after_layerwise < 0.7 * start
    assert end < 0.9 * after_layerwise and end < 0.55 * start, (start, after_layerwise, end)


def test_finetune_callback_sees_every_epoch_and_leaves_training_unchanged():
    X = np.random.default_rng(0).random((50, 6)).astype(np.float32)
    runs = []
    for use_callback in (False, True):
        sae = StackedAutoencoder(dims=(6, 5, 2), loss_reduction="mean", random_state=3)
        seen = []
        cb = (lambda epoch, loss: seen.append((epoch, loss))) if use_callback else None
        hist = sae.finetune(X, epochs=4, batch_size=16, lr=0.5, callback=cb)
        runs.append((hist, {k: v.copy() for k, v in sae.params.items()}, seen))
    (h0, w0, _), (h1, w1, seen) = runs
    assert [e for e, _ in seen] == [1, 2, 3, 4]
    assert [l for _, l in seen] == h1 == h0
    assert all(np.array_equal(w0[k], w1[k]) for k in w0)


def test_layerwise_never_materialises_a_widening_layer(monkeypatch):
    """Depth 2 of 6-8-16-3 reads the 16-wide code of a widening layer: made per batch, not for all rows."""
    X = np.random.default_rng(0).random((40, 6)) + 0.5
    widths = []
    orig = StackedAutoencoder._apply

    def spy(self, net, X_, batch_size=4096):
        out = orig(self, net, X_, batch_size)
        widths.append(out.shape[1])
        return out

    monkeypatch.setattr(StackedAutoencoder, "_apply", spy)
    sae = StackedAutoencoder(dims=(6, 8, 16, 3), dtype=np.float64, loss_reduction="mean",
                             init_std=0.3, random_state=0)
    hist = sae.pretrain_layerwise(X, epochs=30, batch_size=8, lr=0.05)
    assert 16 not in widths and widths == [8]
    for i in range(3):
        assert np.isfinite(hist[f"layer{i}"]).all() and hist[f"layer{i}"][-1] < hist[f"layer{i}"][0]


def _standardised(X):
    sd = X.std(axis=0)
    sd[sd == 0] = 1.0
    return ((X - X.mean(axis=0)) / sd).astype(np.float32)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_defaults_train_on_unit_and_standardised_data(seed):
    """Only dims and the length of training given: no divergence, a lower loss (the defaults
    once diverged on standardised data, and on 2,000 MNIST images with the paper's network)."""
    from dec_np.datasets import load_digits
    X, _ = load_digits()
    for data in (X, _standardised(X)):
        sae = StackedAutoencoder((64, 64, 32, 10), random_state=seed)
        start = sae.reconstruction_loss(data)
        hist = sae.pretrain_layerwise(data, epochs=2)
        sae.finetune(data, epochs=4)
        end = sae.reconstruction_loss(data)
        assert all(np.isfinite(h).all() for h in hist.values())
        assert end < 0.95 * start, (start, end)


def test_default_learning_rates():
    from dec_np.autoencoder import DEFAULT_ADAM_LR
    sae = StackedAutoencoder((10, 4), loss_reduction="batch")
    assert sae._defaults(None, None, 10) == ("adam", DEFAULT_ADAM_LR)
    assert sae._defaults(None, 0.5, 10) == ("sgd", 0.5)  # an lr alone keeps the paper's SGD
    assert sae._defaults("sgd", None, 10) == ("sgd", pytest.approx(0.01))  # 0.1 per element
    mean = StackedAutoencoder((10, 4), loss_reduction="mean")
    assert mean._defaults("sgd", None, 10) == ("sgd", 0.1)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_divergence_names_the_methods_lr():
    X = np.random.default_rng(0).random((40, 6)).astype(np.float32) * 100
    sae = StackedAutoencoder((6, 4), random_state=0)
    with pytest.raises(FloatingPointError, match="lower finetune's lr \\(now 1e\\+06\\)"):
        sae.finetune(X, epochs=3, lr=1e6)
    with pytest.raises(FloatingPointError, match="pretrain_layerwise's lr"):
        sae.pretrain_layerwise(X, epochs=3, lr=1e6)


def test_finetune_dropout_after_every_hidden_relu(monkeypatch):
    """dropout=p puts Dropout(p) after each hidden ReLU (none on z or on x_hat), trains
    other weights than dropout=0 reproducibly, and 0 is the plain fine-tuning, bit for bit."""
    import dec_np.autoencoder as ae
    X = np.random.default_rng(0).random((64, 6)).astype(np.float32)
    built = []
    monkeypatch.setattr(ae, "Sequential", lambda *layers: built.append(layers) or Sequential(*layers))

    def weights(**kw):
        sae = StackedAutoencoder(dims=(6, 5, 4, 2), p_drop=0.0, random_state=1)
        sae.finetune(X, iterations=6, batch_size=16, lr=0.5, **kw)
        return {k: v.copy() for k, v in sae.params.items()}, sae

    plain, _ = weights()
    zero, _ = weights(dropout=0.0)
    assert all(np.array_equal(plain[k], zero[k]) for k in plain)
    built.clear()
    a, sae = weights(dropout=0.3)
    net = [layers for layers in built if any(type(l).__name__ == "Dense" for l in layers)][-1]
    names = [type(l).__name__ for l in net]
    # 6 -> 5 -> 4 -> 2 -> 4 -> 5 -> 6: four hidden ReLUs, each followed by its dropout
    assert names == ["Dense", "ReLU", "Dropout", "Dense", "ReLU", "Dropout", "Dense",
                     "Dense", "ReLU", "Dropout", "Dense", "ReLU", "Dropout", "Dense"]
    assert all(l.p_drop == 0.3 for l in net if type(l).__name__ == "Dropout")
    b, _ = weights(dropout=0.3)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not all(np.array_equal(a[k], plain[k]) for k in a)
    assert np.array_equal(sae.encode(X), sae.encode(X))  # no dropout when encoding
    with pytest.raises(ValueError, match="dropout"):
        StackedAutoencoder(dims=(6, 5, 2)).finetune(X, iterations=1, dropout=1.0)


def test_finetune_input_dropout_reconstructs_the_clean_batch(monkeypatch):
    """input_dropout=p puts Dropout(p) before the first layer, the loss's target stays the
    clean batch, the weights follow reproducibly, and 0 is the plain fine-tuning, bit for bit."""
    import dec_np.autoencoder as ae
    X = (np.random.default_rng(0).random((64, 6)) + 0.5).astype(np.float32)  # no zeros
    built, pairs = [], []
    monkeypatch.setattr(ae, "Sequential", lambda *layers: built.append(layers) or Sequential(*layers))
    monkeypatch.setattr(ae, "mse", lambda out, x, *a: pairs.append(x) or mse(out, x, *a))

    def weights(**kw):
        sae = StackedAutoencoder(dims=(6, 5, 2), random_state=1)
        sae.finetune(X, iterations=4, batch_size=16, lr=0.5, **kw)
        return {k: v.copy() for k, v in sae.params.items()}

    plain, zero = weights(), weights(input_dropout=0.0)
    assert all(np.array_equal(plain[k], zero[k]) for k in plain)
    built.clear(), pairs.clear()
    a = weights(input_dropout=0.5)
    net = [layers for layers in built if any(type(l).__name__ == "Dense" for l in layers)][-1]
    # 6 -> 5 -> 2 -> 5 -> 6, the dropout on the input only
    assert [type(l).__name__ for l in net] == ["Dropout", "Dense", "ReLU", "Dense", "Dense",
                                               "ReLU", "Dense"]
    assert net[0].p_drop == 0.5
    # the first layer saw zeros (a mask of half the values), the loss the clean rows
    assert float((net[1].cache == 0).mean()) > 0.3
    assert len(pairs) == 4 and all((x > 0).all() and np.isin(x, X).all() for x in pairs)
    assert all(np.array_equal(a[k], v) for k, v in weights(input_dropout=0.5).items())
    assert not all(np.array_equal(a[k], plain[k]) for k in a)
    with pytest.raises(ValueError, match="input_dropout"):
        StackedAutoencoder(dims=(6, 5, 2)).finetune(X, iterations=1, input_dropout=1.0)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"dims": (6, 16.7, 3)}, ValueError, "dims must be .* positive integers"),  # became 16
    ({"dims": "64"}, ValueError, "dims must be"),  # built a 6-4 network
    ({"dims": (6,)}, ValueError, "at least two"),
    ({"dims": (6, True)}, ValueError, "dims must be"),
    ({"init_std": float("nan")}, ValueError, "init_std"),  # NaN embeddings
    ({"init_std": -1.0}, ValueError, "init_std"),
    ({"init_std": "he"}, ValueError, "init_std"),
    ({"p_drop": float("nan")}, ValueError, "p_drop"),
    ({"dtype": np.int32}, TypeError, "dtype must be a floating-point type"),  # zero weights
    ({"dtype": np.complex64}, TypeError, "dtype must be a floating-point type"),
])
def test_constructor_checks_its_parameters(kwargs, error, match):
    with pytest.raises(error, match=match):
        StackedAutoencoder(**{"dims": (6, 3), **kwargs})


@pytest.fixture
def no_steps(monkeypatch):
    import dec_np.autoencoder as ae

    def started(*args, **kwargs):
        raise AssertionError("training started before the settings were checked")

    monkeypatch.setattr(ae, "_steps", started)


@pytest.mark.parametrize("method", ["pretrain_layerwise", "finetune"])
@pytest.mark.parametrize("kwargs, match", [
    ({"batch_size": 0}, "batch_size must be an integer >= 1"),  # a ZeroDivisionError
    ({"batch_size": 16.5}, "batch_size"),
    ({"lr": float("nan")}, "lr must be a finite number"),  # trained, then failed
    ({"lr": -0.1}, "lr"),
    ({"epochs": 1.5}, "epochs must be an integer"),
    ({"epochs": None, "iterations": 0}, "iterations must be an integer >= 1"),
    ({"momentum": 1.0}, "momentum"),
    ({"gamma": 0}, "gamma"),
    ({"weight_decay": -1e-4}, "weight_decay"),
    ({"lr_step": 0}, "lr_step"),
    ({"warmup": -1}, "warmup"),
    ({"verbose": "yes"}, "verbose must be True or False"),
    ({"nesterov": 1}, "nesterov must be True or False"),
    ({"optimizer": "rmsprop"}, "optimizer"),
])
def test_training_settings_are_checked_before_any_work(no_steps, method, kwargs, match):
    X = np.random.default_rng(0).random((20, 6))
    sae = StackedAutoencoder((6, 4, 3), random_state=0)
    with pytest.raises(ValueError, match=match):
        getattr(sae, method)(X, **{"epochs": 1, **kwargs})


@pytest.mark.parametrize("kwargs, match", [
    ({"dropout": 1.0}, "dropout"), ({"dropout": float("nan")}, "dropout"),
    ({"min_epochs": 0, "epochs": None, "iterations": 5}, "min_epochs"),
    ({"lr_epochs": float("inf")}, "lr_epochs"), ({"callback": 3}, "callback"),
    ({"augment": "shift"}, "augment")])
def test_finetune_settings_are_checked_before_any_work(no_steps, kwargs, match):
    X = np.random.default_rng(0).random((20, 6))
    with pytest.raises(ValueError, match=match):
        StackedAutoencoder((6, 3), random_state=0).finetune(X, **{"epochs": 1, **kwargs})


def test_column_major_input_gives_the_same_bits():
    """A column-major X (what a DataFrame's values are) is laid out by rows on the way in:
    the same encoding to the bit, on any backend."""
    X = np.random.default_rng(1).random((300, 6))
    F = np.asfortranarray(X)
    sae = StackedAutoencoder((6, 4, 3), random_state=0)
    assert to_device(F, sae.xp, np.float32).flags.c_contiguous
    np.testing.assert_array_equal(asnumpy(sae.encode(F)), asnumpy(sae.encode(X)))


def test_inference_batch_size_dataframes_and_float32_overflow():
    pd = pytest.importorskip("pandas")
    X = np.random.default_rng(0).random((20, 6))
    sae = StackedAutoencoder((6, 3), random_state=0)
    for method in (sae.encode, sae.reconstruct, sae.reconstruction_loss):
        with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
            method(X, batch_size=0)
    with pytest.raises(ValueError, match="batch_size"):
        sae.decode(np.zeros((2, 3)), batch_size=2.0)
    # a DataFrame, as DEC takes it (encode refused it)
    np.testing.assert_array_equal(asnumpy(sae.encode(pd.DataFrame(X))), asnumpy(sae.encode(X)))
    # float64 X that float32 cannot hold: said as such, not "NaN or inf"
    with pytest.warns(RuntimeWarning), pytest.raises(ValueError, match="X overflows float32"):
        sae.encode(X * 1e200)

import numpy as np
import pytest

from dec_np import DEC, StackedAutoencoder
from dec_np.dec_math import kl_divergence, kl_gradients, soft_assignment, target_distribution
from dec_np.gradcheck import check_params
from dec_np.metrics import cluster_accuracy

TINY = {"model": {"p_drop": 0.1, "init_std": "glorot", "loss_reduction": "mean"},
        "layerwise": {"epochs": 2, "batch_size": 32, "lr": 0.5},
        "finetune": {"epochs": 4, "batch_size": 32, "lr": 0.5}}


def blobs(n=240, d=12, k=3, seed=0, noise=1.0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 4, (k, d))
    y = np.repeat(np.arange(k), n // k)
    return (centers[y] + rng.normal(0, noise, (len(y), d))).astype(np.float32), y


def test_estimator_contract():
    X, y = blobs()
    model = DEC(3, hidden_dims=(32, 32, 3), schedule=TINY, max_iter=200, update_interval=20,
                random_state=0)
    assert model.fit(X) is model
    assert model.labels_.shape == (240,) and model.cluster_centers_.shape == (3, 3)
    assert isinstance(model.labels_, np.ndarray) and isinstance(model.cluster_centers_, np.ndarray)
    q = model.predict_proba(X)
    assert q.shape == (240, 3) and np.allclose(q.sum(1), 1, atol=1e-5)
    assert model.transform(X).shape == (240, 3)
    np.testing.assert_array_equal(model.predict(X), q.argmax(1))
    assert model.n_iter_ >= 1 and model.history_["iteration"][0] == 0
    assert cluster_accuracy(y, model.labels_) > 0.9


def test_same_seed_same_result_and_labels_only_monitor():
    X, y = blobs(seed=1)
    kw = dict(hidden_dims=(32, 32, 3), schedule=TINY, max_iter=100, update_interval=20, random_state=3)
    a = DEC(3, **kw).fit(X)
    b = DEC(3, **kw).fit(X, y)  # y is recorded, never used to train
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_allclose(a.cluster_centers_, b.cluster_centers_)
    assert len(b.history_["acc"]) == len(b.history_["iteration"]) and "acc" not in a.history_


def test_pretrained_autoencoder_is_reused_not_modified():
    X, _ = blobs(seed=2)
    sae = StackedAutoencoder(dims=(12, 32, 3), init_std="glorot", loss_reduction="mean", random_state=0)
    sae.finetune(X, epochs=3, batch_size=32, lr=0.02)
    before = {k: v.copy() for k, v in sae.params.items()}
    model = DEC(3, autoencoder=sae, input_scaling=None, max_iter=60, update_interval=20, random_state=0).fit(X)
    for k, v in sae.params.items():
        np.testing.assert_array_equal(v, before[k])
    assert any(not np.array_equal(v, before[k]) for k, v in model.autoencoder_.params.items())


def test_without_backprop_only_centres_move():
    X, _ = blobs(seed=3, noise=4.0)  # overlapping, so q is not one-hot and mu has a gradient
    sae = StackedAutoencoder(dims=(12, 32, 3), init_std="glorot", loss_reduction="mean", random_state=0)
    sae.finetune(X, epochs=3, batch_size=32, lr=0.02)
    model = DEC(3, autoencoder=sae, input_scaling=None, update_encoder=False, max_iter=60, update_interval=20,
                random_state=0).fit(X)
    for k, v in sae.params.items():
        np.testing.assert_array_equal(v, model.autoencoder_.params[k])
    assert not np.allclose(model.cluster_centers_, model.init_centers_)


def test_dec_loss_gradient_through_encoder_matches_finite_differences():
    sae = StackedAutoencoder(dims=(5, 7, 6, 3), init_std=0.6, dtype=np.float64, random_state=4)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((9, 5))
    mu = rng.standard_normal((4, 3))
    encoder = sae.encoder()
    p = target_distribution(soft_assignment(encoder.forward(x) + 0.2 * rng.standard_normal((9, 3)), mu))
    params = {k: v for k, v in sae.params.items() if k.startswith("enc")}
    params["mu"] = mu

    def loss_and_grads():
        z = encoder.forward(x, train=True)
        q = soft_assignment(z, mu, 2.0)
        dz, dmu = kl_gradients(z, mu, p, q, 2.0)
        encoder.backward(dz)
        grads = {k: v for k, v in sae.grads.items() if k.startswith("enc")}
        grads["mu"] = dmu
        return kl_divergence(p, q), grads

    assert all(float(np.abs(g).sum()) > 0 for g in loss_and_grads()[1].values())
    errors = check_params(loss_and_grads, params)
    assert len(errors) == 7 and max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("kwargs, X, match", [
    ({}, np.full((20, 4), np.nan), "NaN"),
    ({}, np.ones(20), "2-D"),
    ({"n_clusters": 1}, np.ones((20, 4)), "n_clusters"),
    ({"n_clusters": 21}, np.ones((20, 4)), "n_clusters"),
    ({"alpha": 0}, np.ones((20, 4)), "alpha"),
    ({"batch_size": 0}, np.ones((20, 4)), "batch_size"),
    ({"lr": -1}, np.ones((20, 4)), "lr"),
    ({"tol": 2}, np.ones((20, 4)), "tol"),
    ({"schedule": "nope"}, np.ones((20, 4)), "schedule"),
    ({"autoencoder": StackedAutoencoder(dims=(5, 2))}, np.ones((20, 4)), "features"),
])
def test_bad_input_is_a_clear_value_error(kwargs, X, match):
    kw = {"n_clusters": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        DEC(**kw).fit(X)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow is what is tested
def test_divergence_names_the_iteration():
    X, _ = blobs(seed=4)
    with pytest.raises(FloatingPointError, match="iteration"):
        DEC(3, hidden_dims=(32, 32, 3), schedule=TINY, lr=1e12, momentum=0.9, max_iter=200,
            update_interval=5, random_state=0).fit(X * 100)


def test_predict_before_fit_is_a_value_and_attribute_error():
    from dec_np.base import NotFittedError
    for method in ("predict", "predict_proba", "transform"):
        with pytest.raises(NotFittedError, match="not fitted") as info:
            getattr(DEC(3), method)(np.ones((4, 3)))
        assert isinstance(info.value, ValueError) and isinstance(info.value, AttributeError)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy's, on the way to the error
def test_input_that_overflows_the_network_is_one_clear_error():
    X, _ = blobs(seed=5)
    model = DEC(3, hidden_dims=(32, 32, 3), schedule=TINY, max_iter=40, update_interval=20,
                random_state=0).fit(X)
    for method in (model.predict, model.predict_proba):
        with pytest.raises(ValueError, match="X overflows the network"):
            method(X * 1e30)  # z is finite here, q is 0/0
    for method in (model.predict, model.predict_proba, model.transform):
        with pytest.raises(ValueError, match="X overflows the network: X scaled and cast"):
            method(X.astype(np.float64) * 1e38)  # beyond float32: z is not finite
    assert model.predict(X).shape == (240,)


def test_pretraining_divergence_names_the_schedule_setting():
    X, _ = blobs(seed=6)
    wild = dict(TINY, finetune=dict(TINY["finetune"], lr=1e9))
    with pytest.warns(RuntimeWarning), pytest.raises(FloatingPointError) as info:
        DEC(3, hidden_dims=(32, 3), schedule=wild, random_state=0).fit(X * 100)
    msg = str(info.value)
    assert "schedule['finetune'][\"lr\"] = 1000000000.0" in msg and "with_lr" in msg
    from dec_np.schedules import with_lr
    assert with_lr(wild, finetune=0.5)["finetune"]["lr"] == 0.5  # the advice can be followed


def test_load_dec_restores_n_features_in(tmp_path):
    from dec_np.checkpoint import save_dec
    from dec_np.dec import load_dec
    X, _ = blobs(seed=7)
    model = DEC(3, hidden_dims=(16, 3), schedule=TINY, max_iter=20, update_interval=10,
                random_state=0).fit(X)
    back = load_dec(save_dec(model, tmp_path / "m.npz"))
    assert back.n_features_in_ == 12
    np.testing.assert_array_equal(back.predict(X), model.predict(X))


def test_small_mnist_dec_beats_ae_kmeans(data_dir):
    from dec_np.datasets import load_mnist
    X, y = load_mnist(data_dir=data_dir, subset="test")
    X, y = X[:1000], y[:1000]
    model = DEC(10, hidden_dims=(128, 128, 256, 10), schedule="fast", max_iter=300,
                update_interval=40, n_init=5, random_state=0).fit(X)
    ae_acc = cluster_accuracy(y, model.init_labels_)
    dec_acc = cluster_accuracy(y, model.labels_)
    assert ae_acc > 0.5 and dec_acc >= ae_acc - 0.01, (ae_acc, dec_acc)


def test_small_mnist_end_to_end_adam_schedule(data_dir):
    """The default recipe (no layer-wise stage, Adam, Glorot, X / max|X|), shortened."""
    from dec_np.datasets import load_mnist
    X, y = load_mnist(data_dir=data_dir, subset="test")
    X, y = X[:1000], y[:1000]
    short = {"model": {"p_drop": 0.0, "init_std": "glorot", "loss_reduction": "mean"},
             "input_scaling": "max", "layerwise": None,
             "finetune": {"iterations": 400, "batch_size": 128, "lr": 1e-3, "optimizer": "adam"}}
    model = DEC(10, hidden_dims=(128, 128, 256, 10), schedule=short, max_iter=300,
                update_interval=40, n_init=5, random_state=0).fit(X)
    assert model.scale_ == pytest.approx(1.0)  # pixels in [0, 1] stay as they are
    ae_acc = cluster_accuracy(y, model.init_labels_)
    dec_acc = cluster_accuracy(y, model.labels_)
    assert ae_acc > 0.5 and dec_acc >= ae_acc - 0.01, (ae_acc, dec_acc)


# -- everything is checked before any work ---------------------------------------------------
@pytest.fixture
def no_work(monkeypatch):
    """Pretraining and k-means fail the test if they start."""
    import dec_np.dec as dec_module

    def started(*args, **kwargs):
        raise AssertionError("the work started before the input was checked")

    monkeypatch.setattr(dec_module, "run_schedule", started)
    monkeypatch.setattr(dec_module, "kmeans", started)


@pytest.mark.parametrize("kwargs, match", [
    ({"alpha": float("inf")}, "alpha must be a number in"),  # failed after pretraining
    ({"alpha": 1e-300}, "alpha must be a number in"),
    ({"alpha": float("nan")}, "alpha"),
    ({"alpha": True}, "alpha"),
    ({"hidden_dims": (16.7, 3)}, "hidden_dims must be .* positive integers"),  # became 16
    ({"hidden_dims": "64"}, "hidden_dims"),
    ({"hidden_dims": ()}, "hidden_dims"),
    ({"hidden_dims": (8, 0)}, "hidden_dims"),
    ({"update_encoder": "no"}, "update_encoder must be True or False"),  # trained the encoder
    ({"verbose": "yes"}, "verbose must be True or False"),
    ({"lr": float("nan")}, "lr"),
    ({"lr": float("inf")}, "lr"),
    ({"momentum": float("nan")}, "momentum"),
    ({"n_clusters": 3.0}, "n_clusters"),
    ({"batch_size": 2.5}, "batch_size"),
    ({"max_iter": True}, "max_iter"),
])
def test_parameters_are_checked_before_any_work(no_work, kwargs, match):
    X, _ = blobs(n=30)
    with pytest.raises(ValueError, match=match):
        DEC(**{"n_clusters": 3, "hidden_dims": (8, 3), **kwargs}).fit(X)


def test_y_is_checked_before_any_work(no_work):
    X, y = blobs(n=30)
    with pytest.raises(ValueError, match="y has 29 labels but X has 30 rows"):
        DEC(3).fit(X, y[:29])  # was refused only after pretraining and k-means
    with pytest.raises(ValueError, match="y contains 1 missing or infinite label"):
        DEC(3).fit(X, np.where(np.arange(30) == 4, np.nan, y))  # was accepted
    with pytest.raises(ValueError, match="y must be 1-D"):
        DEC(3).fit(X, y[:, None])


def test_float32_over_and_underflow_are_reported_as_such(no_work):
    X, _ = blobs(n=30)
    X = X.astype(np.float64)
    # X * 1e200 is finite in float64: it was "X contains NaN or inf"
    with pytest.raises(ValueError, match=r"values up to \|x\| = .*e\+200: they overflow float32"):
        DEC(3).fit(X * 1e200)
    # X * 1e-320 is not all zeros: it was "X is all zeros"
    with pytest.raises(ValueError, match=r"largest \|x\| is .*e-32\d: it underflows float32"):
        DEC(3).fit(X * 1e-320)
    with pytest.raises(ValueError, match="X contains NaN or inf"):
        DEC(3).fit(np.where(X > 0, np.inf, X))
    with pytest.raises(ValueError, match="all zeros"):  # the one case that is all zeros
        DEC(3, input_scaling="paper").fit(np.zeros((30, 4)))


def test_the_largest_float32_range_trains():
    """Values just inside float32's range train once scaled (paper scaling)."""
    X, _ = blobs(n=60)
    model = DEC(3, hidden_dims=(8, 3), schedule="fast", n_init=2, max_iter=20,
                update_interval=10, random_state=0)
    for factor in (1e37, 1e-36):
        Xs = X.astype(np.float64) * factor
        assert model.fit(Xs).predict(Xs).shape == (60,)


def test_schedule_says_what_ran():
    """``schedule_`` is the pretraining that ran: the shifts only for declared images."""
    from dec_np.datasets import load_digits
    X, _ = load_digits()
    X = X[:120]
    kw = dict(n_clusters=3, hidden_dims=(16, 3), max_iter=5, n_init=2, random_state=0)
    shifting = {"model": {"p_drop": 0.0, "init_std": "glorot", "loss_reduction": "mean"},
                "input_scaling": "max", "layerwise": None,
                "finetune": {"iterations": 5, "batch_size": 32, "optimizer": "adam"},
                "augment": {"shift": 0.2}}
    plain = DEC(schedule=shifting, **kw).fit(X)
    assert plain.schedule_["augment"] is None and plain.schedule_["finetune"]["iterations"] == 5
    images = DEC(schedule=shifting, image_shape=(8, 8), **kw).fit(X)
    assert images.schedule_["augment"] == {"shift": 0.2}
    given = DEC(autoencoder=images.autoencoder_, input_scaling=None, **kw).fit(X)
    assert given.schedule_ is None

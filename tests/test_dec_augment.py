"""DEC(augment=...): the clustering phase's batches shifted or masked, target and labels clean."""
import numpy as np
import pytest

from dec_np import DEC, StackedAutoencoder
from dec_np import dec as dec_module
from dec_np.checkpoint import FitCheckpoint
from dec_np.datasets import load_digits

KW = dict(n_clusters=4, update_interval=10, max_iter=60, tol=0.0, n_init=2, batch_size=32, lr=0.001,
          random_state=0, augment=None)  # plain unless a test augments


@pytest.fixture(scope="module")
def data():
    X, y = load_digits()
    keep = y < 4
    return X[keep][:240], y[keep][:240]


@pytest.fixture(scope="module")
def sae(data):
    X, _ = data
    sae = StackedAutoencoder((64, 32, 4), init_std="glorot", p_drop=0.0, random_state=0)
    sae.finetune(X / X.max(), iterations=150, batch_size=32, optimizer="adam")
    return sae


def _fit(data, sae, image_shape=(8, 8), **kw):
    X, y = data
    return DEC(autoencoder=sae, input_scaling="max", image_shape=image_shape,
               **{**KW, **kw}).fit(X, y)


def test_the_encoder_learns_from_shifted_batches(data, sae, monkeypatch):
    plain = _fit(data, sae)
    seen = []
    real = sae.encoder().layers[0].__class__.forward

    def spy(layer, x, train=False):
        if train:
            seen.append(np.asarray(x).copy())
        return real(layer, x, train)

    monkeypatch.setattr(type(sae.encoder().layers[0]), "forward", spy)
    shifted = _fit(data, sae, augment={"shift": 0.25})
    X = data[0] / data[0].max()
    # the first layer's training inputs are not rows of X: some pixels moved
    assert seen and not all(any(np.allclose(b, X[i]) for i in range(len(X))) for b in seen[0][:8])
    assert not np.array_equal(plain.cluster_centers_, shifted.cluster_centers_)


def test_the_target_and_labels_come_from_the_clean_images(data, sae, monkeypatch):
    X = data[0]
    applied = []
    real_apply = StackedAutoencoder._apply

    def spy(self, net, H, batch_size=4096):
        applied.append(np.asarray(H).copy())
        return real_apply(self, net, H, batch_size)

    monkeypatch.setattr(StackedAutoencoder, "_apply", spy)
    model = _fit(data, sae, augment={"shift": 0.25})
    clean = (X / X.max()).astype(np.float32)
    # every full-data encoding (the target P at each update, the labels) saw the clean rows;
    # a fit that built P from shifted images would fail here
    full = [H for H in applied if H.shape[0] == X.shape[0]]
    assert len(full) >= KW["max_iter"] // KW["update_interval"]
    assert all(np.array_equal(H, clean) for H in full)
    monkeypatch.setattr(StackedAutoencoder, "_apply", real_apply)
    np.testing.assert_array_equal(model.labels_, model.predict(X))


def test_the_same_numbers_for_every_n_jobs(data, sae):
    one = _fit(data, sae, augment={"shift": 0.25}, n_jobs=1)
    two = _fit(data, sae, augment={"shift": 0.25}, n_jobs=2)
    np.testing.assert_array_equal(one.labels_, two.labels_)
    np.testing.assert_array_equal(one.cluster_centers_, two.cluster_centers_)
    again = _fit(data, sae, augment={"shift": 0.25}, n_jobs=1)
    np.testing.assert_array_equal(one.cluster_centers_, again.cluster_centers_)


@pytest.mark.parametrize("aug", [{"shift": 0.25}, {"shift": 0.25, "rotate": 15.0}])
def test_resume_equals_the_uninterrupted_fit(data, sae, tmp_path, monkeypatch, aug):
    monkeypatch.setattr(FitCheckpoint, "EVERY", 0.0)
    X, y = data
    full = _fit(data, sae, augment=aug)
    ck = tmp_path / "state.npz"
    DEC(autoencoder=sae, input_scaling="max", image_shape=(8, 8),
        **{**KW, "max_iter": 30, "augment": aug}).fit(X, y, checkpoint_path=ck)
    resumed = DEC(autoencoder=sae, input_scaling="max", image_shape=(8, 8),
                  **{**KW, "augment": aug}).fit(X, y, resume_from=ck)
    np.testing.assert_array_equal(resumed.labels_, full.labels_)
    np.testing.assert_array_equal(resumed.cluster_centers_, full.cluster_centers_)
    assert resumed.history_ == full.history_
    with pytest.raises(ValueError, match="augment"):  # another augment: another fit
        DEC(autoencoder=sae, input_scaling="max", image_shape=(8, 8),
            **{**KW, "augment": {"shift": 0.125}}).fit(X, y, resume_from=ck)


@pytest.mark.parametrize("bad, match", [
    (dict(augment={"shift": 0.25}, image_shape=None), "image_shape"),
    (dict(augment={"shift": 0.6}), "augment"),
    (dict(augment={"shift": 0.1, "rotate": 200}), "augment"),
    (dict(augment={"shift": 0.1, "rotate": -5}), "augment"),
    (dict(augment={"shift": 0.1, "scale": 0.1}), "augment"),
    (dict(augment={"rotate": 5}), "augment"),
    (dict(augment=0.1), "augment"),
    (dict(augment={"shift": 0.25}, update_encoder=False), "update_encoder"),
    (dict(augment={"mask": 0.0}), "augment"),
    (dict(augment={"mask": 1.0}), "augment"),
    (dict(augment={"mask": 0.2, "shift": 0.1}), "augment"),
    (dict(augment={"mask": True}), "augment"),
    (dict(augment={"mask": 0.2}, update_encoder=False), "update_encoder"),
    (dict(augment={"neighbours": 0}), "augment"),
    (dict(augment={"neighbours": 240}), "augment"),  # as many as the other rows at most
    (dict(augment={"neighbours": 2.0}), "augment"),
    (dict(augment={"neighbours": 3, "mask": 0.2}), "augment"),
    (dict(augment={"neighbours": 3}, update_encoder=False), "update_encoder"),
])
def test_bad_augment_is_refused_before_any_work(data, sae, bad, match):
    X, _ = data
    kw = {"image_shape": (8, 8), **bad}
    with pytest.raises(ValueError, match=match):
        DEC(autoencoder=sae, input_scaling="max", **{**KW, **kw}).fit(X)


def test_augment_is_a_parameter_of_the_estimator():
    model = DEC(augment={"shift": 0.1}, image_shape=(28, 28))
    assert model.get_params()["augment"] == {"shift": 0.1}
    assert "augment={'shift': 0.1}" in repr(model)
    assert dec_module.DEC().augment == "auto"  # resolved at fit time: augment_
    assert dec_module.clustering_settings(dec_module.DEC())[0] is None


def test_rotations_change_the_fit_and_keep_every_n_jobs_equal(data, sae):
    shifted = _fit(data, sae, augment={"shift": 0.25})
    turned = _fit(data, sae, augment={"shift": 0.25, "rotate": 15.0}, n_jobs=1)
    assert not np.array_equal(turned.cluster_centers_, shifted.cluster_centers_)
    again = _fit(data, sae, augment={"shift": 0.25, "rotate": 15.0}, n_jobs=2)
    np.testing.assert_array_equal(turned.cluster_centers_, again.cluster_centers_)
    np.testing.assert_array_equal(turned.labels_, again.labels_)
    # rotate 0 is the shifts alone, to the bit
    none = _fit(data, sae, augment={"shift": 0.25, "rotate": 0})
    np.testing.assert_array_equal(none.cluster_centers_, shifted.cluster_centers_)



def test_masks_train_the_encoder_on_plain_rows_and_keep_the_target_clean(data, sae,
                                                                         monkeypatch):
    """{"mask": p}: no image shape needed; the encoder's training batches have about p of
    their values zeroed and the rest scaled by 1 / (1 - p); P and the labels stay clean."""
    X = (data[0] / data[0].max()).astype(np.float32)
    seen, applied = [], []
    real = sae.encoder().layers[0].__class__.forward
    real_apply = StackedAutoencoder._apply

    def spy(layer, x, train=False):
        if train:
            seen.append(np.asarray(x).copy())
        return real(layer, x, train)

    def spy_apply(self, net, H, batch_size=4096):
        applied.append(np.asarray(H).copy())
        return real_apply(self, net, H, batch_size)

    monkeypatch.setattr(type(sae.encoder().layers[0]), "forward", spy)
    monkeypatch.setattr(StackedAutoencoder, "_apply", spy_apply)
    masked = _fit(data, sae, image_shape=None, augment={"mask": 0.25})
    monkeypatch.undo()
    assert masked.augment_ == {"mask": 0.25} and masked.max_iter_ == KW["max_iter"]
    seen = [s for s in seen if s.shape[1] == X.shape[1]]  # the first layer's inputs
    b = seen[0]
    nonzero = b[b != 0]
    # every value kept is a value of X times 1 / (1 - 0.25)
    assert np.isin(nonzero, (X * np.float32(1 / 0.75))[X != 0]).all()
    # about a quarter of X's nonzero values were zeroed in the first batches
    kept = np.mean([(s != 0).sum(axis=1).mean() for s in seen[:20]])
    assert 0.7 < kept / (X != 0).sum(axis=1).mean() < 0.8
    full = [H for H in applied if H.shape[0] == X.shape[0]]
    assert full and all(np.array_equal(H, X) for H in full)
    plain = _fit(data, sae, image_shape=None)
    assert not np.array_equal(plain.cluster_centers_, masked.cluster_centers_)


@pytest.mark.parametrize("aug", [{"mask": 0.25}, {"neighbours": 3}])
def test_rows_of_any_kind_give_the_same_numbers_for_every_n_jobs_and_on_resume(
        data, sae, tmp_path, monkeypatch, aug):
    one = _fit(data, sae, image_shape=None, augment=aug, n_jobs=1)
    two = _fit(data, sae, image_shape=None, augment=aug, n_jobs=2)
    np.testing.assert_array_equal(one.cluster_centers_, two.cluster_centers_)
    np.testing.assert_array_equal(one.labels_, two.labels_)
    monkeypatch.setattr(FitCheckpoint, "EVERY", 0.0)
    X, y = data
    ck = tmp_path / "state.npz"
    DEC(autoencoder=sae, input_scaling="max", **{**KW, "max_iter": 30, "augment": aug}).fit(
        X, y, checkpoint_path=ck)
    resumed = DEC(autoencoder=sae, input_scaling="max", **{**KW, "augment": aug}).fit(
        X, y, resume_from=ck)
    np.testing.assert_array_equal(resumed.cluster_centers_, one.cluster_centers_)
    assert resumed.history_ == one.history_


def test_neighbours_train_the_encoder_on_neighbour_rows_with_the_rows_targets(data, sae,
                                                                             monkeypatch):
    """{"neighbours": k}: each training row is one of its k nearest neighbours in the
    embedding k-means saw, drawn anew each step; the target rows, P and the labels stay the
    batch's own (clean) rows."""
    from dec_np.neighbours import nearest_neighbours
    X = (data[0] / data[0].max()).astype(np.float32)
    seen, targets = [], []
    real = sae.encoder().layers[0].__class__.forward
    real_grads = dec_module._kl_gradients

    def spy(layer, x, train=False):
        if train:
            seen.append(np.asarray(x).copy())
        return real(layer, x, train)

    def spy_grads(z, mu, p, q, alpha):
        targets.append(np.asarray(p).copy())
        return real_grads(z, mu, p, q, alpha)

    monkeypatch.setattr(type(sae.encoder().layers[0]), "forward", spy)
    monkeypatch.setattr(dec_module, "_kl_gradients", spy_grads)
    model = _fit(data, sae, image_shape=None, augment={"neighbours": 3})
    monkeypatch.undo()
    assert model.augment_ == {"neighbours": 3} and model.max_iter_ == KW["max_iter"]
    nbr = nearest_neighbours(sae.encode(X), 3)
    seen = [s for s in seen if s.shape[1] == X.shape[1]]
    assert len(seen) == KW["max_iter"]
    # every training row is a row of X, and a neighbour of the row whose target it gets:
    # the first batch, before the encoder moved, checked row by row against the batch order
    rows = [int(np.flatnonzero((X == r).all(axis=1))[0]) for r in seen[0]]
    p0 = targets[0]
    q0 = dec_module._soft_assignment(sae.encode(X), model.init_centers_.astype(np.float32),
                                     1.0)
    p_all = np.asarray(dec_module._target_distribution(q0))
    owners = [int(np.flatnonzero((np.abs(p_all - t) < 1e-6).all(axis=1))[0]) for t in p0]
    assert all(r in nbr[o] for r, o in zip(rows, owners))
    assert sum(r != o for r, o in zip(rows, owners)) == len(rows)  # never the row itself
    plain = _fit(data, sae, image_shape=None)
    assert not np.array_equal(plain.cluster_centers_, model.cluster_centers_)


def test_a_state_without_its_neighbours_cannot_continue_the_fit(data, sae, tmp_path,
                                                               monkeypatch):
    aug = {"neighbours": 3}
    monkeypatch.setattr(FitCheckpoint, "EVERY", 0.0)
    X, y = data
    ck = tmp_path / "state.npz"
    DEC(autoencoder=sae, input_scaling="max", **{**KW, "max_iter": 30, "augment": aug}).fit(
        X, y, checkpoint_path=ck)
    with np.load(ck, allow_pickle=False) as f:
        kept = {k: f[k] for k in f.files if k != "neighbours"}
    np.savez(tmp_path / "cut.npz", **kept)
    with pytest.raises(ValueError, match="neighbours"):
        DEC(autoencoder=sae, input_scaling="max", **{**KW, "augment": aug}).fit(
            X, y, resume_from=tmp_path / "cut.npz")

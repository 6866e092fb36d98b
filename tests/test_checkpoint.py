import os
import signal

import numpy as np
import pytest

import dec_np.dec as dec_module
from dec_np import DEC, StackedAutoencoder
from dec_np.backend import asnumpy
from dec_np.checkpoint import FitCheckpoint, _read, load_autoencoder, save_autoencoder, save_dec
from dec_np.dec import load_dec
from dec_np.datasets import load_digits
from dec_np.utils import BatchStream
from dec_np.datasets import load_digits

TINY = {"model": {"p_drop": 0.1, "init_std": 0.01},
        "layerwise": {"epochs": 2, "batch_size": 64, "lr": 0.003},
        "finetune": {"epochs": 2, "batch_size": 64, "lr": 0.003}}
KW = dict(n_clusters=10, hidden_dims=(32, 10), schedule=TINY, batch_size=64, update_interval=20,
          tol=0.0, n_init=2, random_state=0)


@pytest.fixture(autouse=True)
def save_at_every_update(monkeypatch):
    """Tiny fits last milliseconds: save at every target update, not every 10 s."""
    monkeypatch.setattr(FitCheckpoint, "EVERY", 0.0)


@pytest.fixture(scope="module")
def data():
    X, y = load_digits()
    return X[:400], y[:400]


def _backend(xp):
    return "numpy" if xp is np else "cupy"


def test_autoencoder_round_trip(tmp_path, xp, data):
    X, _ = data
    sae = StackedAutoencoder((64, 16, 5), p_drop=0.3, backend=_backend(xp), random_state=0)
    sae.finetune(X, epochs=1)
    path = save_autoencoder(sae, tmp_path / "sae.npz")
    assert sorted(os.listdir(tmp_path)) == ["sae.npz"]  # no temporary file left behind
    back = load_autoencoder(path, backend=_backend(xp))
    assert back.dims == sae.dims and back.p_drop == 0.3 and back.dtype == sae.dtype
    assert back.history_ == sae.history_
    for k, w in sae.params.items():
        np.testing.assert_array_equal(asnumpy(back.params[k]), asnumpy(w))
    np.testing.assert_array_equal(asnumpy(back.encode(X)), asnumpy(sae.encode(X)))


def test_dec_round_trip_predicts_identically(tmp_path, xp, data):
    X, y = data
    model = DEC(max_iter=40, backend=_backend(xp), **KW).fit(X, y)
    path = save_dec(model, tmp_path / "dec.ckpt")  # any name: written exactly there
    back = load_dec(path, backend=_backend(xp))
    np.testing.assert_array_equal(back.predict(X), model.predict(X))
    np.testing.assert_array_equal(back.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(back.labels_, model.labels_)
    np.testing.assert_array_equal(back.init_labels_, model.init_labels_)
    np.testing.assert_array_equal(back.cluster_centers_, model.cluster_centers_)
    assert back.scale_ == model.scale_ and back.history_ == model.history_
    assert back.hidden_dims == (32, 10) and back.n_iter_ == model.n_iter_


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    sae = StackedAutoencoder((6, 3), random_state=0)
    path = save_autoencoder(sae, tmp_path / "sae.npz")
    before = path.read_bytes()

    def boom(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(KeyboardInterrupt):
        save_autoencoder(StackedAutoencoder((6, 4), random_state=1), path)
    assert path.read_bytes() == before and sorted(os.listdir(tmp_path)) == ["sae.npz"]


def test_bad_files_are_clear_value_errors(tmp_path):
    sae = StackedAutoencoder((6, 3), random_state=0)
    good = save_autoencoder(sae, tmp_path / "sae.npz")
    raw = good.read_bytes()
    (tmp_path / "cut.npz").write_bytes(raw[: len(raw) // 2])
    (tmp_path / "junk.npz").write_bytes(b"this is not a checkpoint at all")
    np.save(tmp_path / "plain.npy", np.zeros(3))
    np.savez(tmp_path / "nometa.npz", a=np.zeros(3))
    for name in ("cut.npz", "junk.npz", "plain.npy", "nometa.npz"):
        with pytest.raises(ValueError):
            load_autoencoder(tmp_path / name)
    with pytest.raises(ValueError, match="not 'dec'"):
        load_dec(good)
    with pytest.raises(FileNotFoundError):
        load_dec(tmp_path / "missing.npz")


def _reference_batches(n, batch_size, rng):
    """What BatchStream must yield: a fresh permutation per epoch, cut into batches."""
    epoch = 0
    while True:
        perm = rng.permutation(n)
        for start in range(0, n, batch_size):
            yield epoch, perm[start:start + batch_size]
        epoch += 1


def test_batch_stream_matches_permutations_and_restores():
    ref = _reference_batches(10, 4, np.random.default_rng(3))
    stream = BatchStream(10, 4, np.random.default_rng(3))
    seen = [(-1, stream.state(), None)]  # a state before the first batch restores too
    for step in range(11):
        e, idx = next(stream)
        e_ref, idx_ref = next(ref)
        assert e == e_ref
        np.testing.assert_array_equal(idx, idx_ref)
        seen.append((step, stream.state(), idx))
    seen = seen[1:] + [seen[0]]
    start = seen.pop()
    seen_from_start = [(-1, start[1], None)] + seen
    for step, state, _ in seen_from_start[:-1]:  # restart from each state: the rest is the same
        again = BatchStream(10, 4, np.random.default_rng(99), state=state)
        for later in seen[step + 1:]:
            np.testing.assert_array_equal(next(again)[1], later[2])


def test_resume_after_max_iter_equals_uninterrupted(tmp_path, data):
    X, y = data
    full = DEC(max_iter=100, **KW).fit(X, y)
    ck = tmp_path / "state.npz"
    DEC(max_iter=40, **KW).fit(X, y, checkpoint_path=ck)
    assert _read(ck, "dec-fit-state")[0]["iteration"] == 40  # the last target update
    resumed = DEC(max_iter=100, **KW).fit(X, y, checkpoint_path=ck, resume_from=ck)
    np.testing.assert_array_equal(resumed.labels_, full.labels_)
    np.testing.assert_array_equal(resumed.cluster_centers_, full.cluster_centers_)
    assert resumed.history_ == full.history_


def test_ctrl_c_saves_and_resume_equals_uninterrupted(tmp_path, data, monkeypatch):
    X, y = data
    full = DEC(max_iter=100, **KW).fit(X, y)
    real, calls = dec_module._kl_gradients, [0]

    def ctrl_c_at_step_53(*args, **kw):  # a real SIGINT in the middle of an iteration
        calls[0] += 1
        if calls[0] == 53:
            signal.raise_signal(signal.SIGINT)
        return real(*args, **kw)
    monkeypatch.setattr(dec_module, "_kl_gradients", ctrl_c_at_step_53)
    ck = tmp_path / "state.npz"
    with pytest.raises(KeyboardInterrupt):
        DEC(max_iter=100, **KW).fit(X, y, checkpoint_path=ck)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored
    monkeypatch.setattr(dec_module, "_kl_gradients", real)
    resumed = DEC(max_iter=100, **KW).fit(X, y, resume_from=ck)
    np.testing.assert_array_equal(resumed.labels_, full.labels_)
    assert resumed.history_ == full.history_


def test_resume_refuses_other_settings_or_data(tmp_path, data):
    X, y = data
    ck = tmp_path / "state.npz"
    DEC(max_iter=20, **KW).fit(X, checkpoint_path=ck)
    with pytest.raises(ValueError, match="lr"):
        DEC(max_iter=40, **dict(KW, lr=0.5)).fit(X, resume_from=ck)
    with pytest.raises(ValueError, match="other data|shape"):
        DEC(max_iter=40, **KW).fit(X * 2, resume_from=ck)
    with pytest.raises(ValueError, match="shape"):
        DEC(max_iter=40, **KW).fit(X[:300], resume_from=ck)


def test_periodic_saves_wait_between_saves(tmp_path, data, monkeypatch):
    X, _ = data
    monkeypatch.setattr(FitCheckpoint, "EVERY", 3600.0)
    ck = tmp_path / "state.npz"
    DEC(max_iter=40, **KW).fit(X, checkpoint_path=ck)
    assert _read(ck, "dec-fit-state")[0]["iteration"] == 0  # only the first update saved


def test_non_finite_weights_are_refused_at_load(tmp_path, data):
    import json
    X, y = data
    sae = StackedAutoencoder((64, 16, 5), random_state=0)
    path = save_autoencoder(sae, tmp_path / "sae.npz")
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["sae/enc0.W"][3, 1] = np.nan
    np.savez(tmp_path / "nan.npz", **arrays)
    with pytest.raises(ValueError, match=r"nan\.npz.*NaN or inf"):
        load_autoencoder(tmp_path / "nan.npz")
    model = DEC(max_iter=20, **KW).fit(X)
    good = save_dec(model, tmp_path / "dec.npz")
    with np.load(good) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["mu"][0, 0] = np.inf
    np.savez(tmp_path / "inf.npz", **arrays)
    with pytest.raises(ValueError, match=r"inf\.npz.*NaN or inf"):
        load_dec(tmp_path / "inf.npz")
    meta = json.loads(str(arrays.pop("meta")))
    arrays["mu"][0, 0] = 0.0
    meta["scale"] = float("nan")
    np.savez(tmp_path / "scale.npz", meta=np.array(json.dumps(meta)), **arrays)
    with pytest.raises(ValueError, match="scale"):
        load_dec(tmp_path / "scale.npz")


def test_stale_temporaries_of_dead_writers_are_removed(tmp_path):
    import subprocess
    import sys
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    stale = tmp_path / f".sae.npz.{dead}.k2j3.tmp"        # a kill -9 during a save
    alive = tmp_path / f".sae.npz.{os.getpid()}.k2j3.tmp"  # a save in progress: kept
    other = tmp_path / f".other.npz.{dead}.k2j3.tmp"       # another file's: not ours to judge
    for f in (stale, alive, other):
        f.write_bytes(b"\0" * 100)
    save_autoencoder(StackedAutoencoder((6, 3), random_state=0), tmp_path / "sae.npz")
    assert sorted(os.listdir(tmp_path)) == sorted(["sae.npz", alive.name, other.name])


def test_resume_refuses_another_random_state(tmp_path, data):
    X, _ = data
    ck = tmp_path / "state.npz"
    DEC(max_iter=20, **KW).fit(X, checkpoint_path=ck)
    with pytest.raises(ValueError, match="random_state"):
        DEC(max_iter=40, **dict(KW, random_state=1)).fit(X, resume_from=ck)


def test_data_fingerprint_sees_values_order_shape_and_dtype(xp):
    from dec_np.checkpoint import data_fingerprint
    X = np.arange(12, dtype=np.float32).reshape(4, 3)
    f = data_fingerprint(X)
    assert f.startswith("sha256:") and f == data_fingerprint(xp.asarray(X.copy()))
    for other in (X[::-1], X.reshape(3, 4), X.astype(np.float64), X + np.float32(1e-6)):
        assert data_fingerprint(other) != f


def test_image_shape_round_trip(tmp_path):
    """image_shape comes back as the tuple it was (JSON stores a list)."""
    X, _ = load_digits()
    model = DEC(3, hidden_dims=(8, 2), schedule="fast", n_init=2, max_iter=5,
                image_shape=(8, 8), random_state=0).fit(X[:200])
    back = load_dec(save_dec(model, tmp_path / "dec.npz"))
    assert back.image_shape == (8, 8) and back.get_params() == model.get_params()
    np.testing.assert_array_equal(back.predict(X[:200]), model.predict(X[:200]))


def _forge(tmp_path, name, edit_meta=None, edit_arrays=None):
    """A copy of a small saved autoencoder with its metadata or arrays edited."""
    import json
    good = save_autoencoder(StackedAutoencoder((64, 16, 4), random_state=0), tmp_path / "g.npz")
    with np.load(good) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays.pop("meta")))
    if edit_meta:
        edit_meta(meta["autoencoder"])
    if edit_arrays:
        edit_arrays(arrays)
    np.savez(tmp_path / name, meta=np.array(json.dumps(meta)), **arrays)
    return tmp_path / name


@pytest.mark.parametrize("edit, match", [
    (lambda m: m.update(dims=[64, 10 ** 8, 4]), r"dims \[64, 100000000, 4\] do not match"),
    (lambda m: m.update(dims=[64, 16, 4, 2]), "do not match the stored weights"),
    (lambda m: m.update(dims=[64, 16]), "do not match the stored weights"),
    (lambda m: m.update(dtype="O"), "dtype 'O' is not one of float32, float64"),
    (lambda m: m.update(dtype="int8"), "dtype 'int8' is not one of"),
    (lambda m: m.update(dtype=["float32"]), "is not one of"),
])
def test_metadata_that_does_not_match_the_weights_is_refused_before_allocation(
        tmp_path, monkeypatch, edit, match):
    path = _forge(tmp_path, "forged.npz", edit_meta=edit)
    import dec_np.autoencoder
    built = []
    monkeypatch.setattr(dec_np.autoencoder, "Dense",   # no layer is allocated before the check
                        lambda *a, **k: built.append(a) or 1 / 0)
    with pytest.raises(ValueError, match=r"forged\.npz: .*" + match):
        load_autoencoder(path)
    assert built == []


def test_weights_of_the_wrong_dtype_or_overflowing_float32_are_refused(tmp_path):
    def ints(a):
        a["sae/enc0.W"] = np.ones((64, 16), np.int8)
    with pytest.raises(ValueError, match=r"'enc0\.W' has dtype int8, not float"):
        load_autoencoder(_forge(tmp_path, "ints.npz", edit_arrays=ints))

    def huge(a):
        a["sae/enc0.W"] = np.full((64, 16), 1e300)
    with pytest.raises(ValueError, match=r"huge\.npz: weight 'enc0\.W' overflows float32"):
        load_autoencoder(_forge(tmp_path, "huge.npz", edit_arrays=huge))


def test_a_member_header_claiming_terabytes_is_refused(tmp_path):
    import zipfile
    from numpy.lib import format as npformat
    path = _forge(tmp_path, "m.npz")
    with open(tmp_path / "x.npy", "wb") as f:
        npformat.write_array_header_1_0(f, {"descr": "<f4", "fortran_order": False,
                                            "shape": (10 ** 9, 10 ** 4)})
        f.write(bytes(64))
    with zipfile.ZipFile(path, "a") as z:
        z.write(tmp_path / "x.npy", "sae/extra.npy")
    with pytest.raises(ValueError, match=r"m\.npz\[sae/extra\.npy\]: the header claims"):
        load_autoencoder(path)


def test_metadata_nested_too_deep_is_a_value_error(tmp_path):
    np.savez(tmp_path / "deep.npz", meta=np.array("[" * 100000 + "]" * 100000))
    with pytest.raises(ValueError, match=r"deep\.npz: not a readable dec_np checkpoint"):
        load_autoencoder(tmp_path / "deep.npz")

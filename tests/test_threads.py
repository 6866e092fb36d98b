"""Host threads (dec_np.threads): the same numbers to the bit with one thread or two."""
import os
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from dec_np import DEC, StackedAutoencoder, threads
from dec_np.augment import shifter
from dec_np.datasets import load_digits
from dec_np.kmeans import kmeans

#: a short schedule of every kind of stage: layer-wise SGD with dropout, then Adam with shifts
SHORT = {"model": {"p_drop": 0.2, "init_std": 0.01, "loss_reduction": "batch"},
         "input_scaling": "paper",
         "layerwise": {"iterations": 30, "batch_size": 64, "lr": 0.02, "optimizer": "sgd"},
         "finetune": {"iterations": 40, "batch_size": 128, "lr": 1e-3, "optimizer": "adam"},
         "augment": {"shift": 0.2}}


@pytest.fixture
def every_product_threaded(monkeypatch):
    """Hand every product to the worker, however small, and count the hand-overs."""
    monkeypatch.setattr(threads, "MIN_WORK", 0)
    calls = []
    submit = ThreadPoolExecutor.submit

    def counting(self, fn, *args, **kwargs):
        calls.append(fn)
        return submit(self, fn, *args, **kwargs)

    monkeypatch.setattr(ThreadPoolExecutor, "submit", counting)
    return calls


def _blas_threads():
    return {d["num_threads"] for d in threadpool_info() if d["user_api"] == "blas"}


def test_resolve_n_jobs():
    # the default is BLAS's own threads, except inside a block, whose setting it takes
    assert threads.resolve_n_jobs(None) is None
    with threads.host_threads(2):
        assert threads.resolve_n_jobs(None) == 2
        with threads.host_threads(None) as pool:  # reuses the outer block's workers
            assert isinstance(pool, ThreadPoolExecutor) and threads.resolve_n_jobs(None) == 2
    with threads.host_threads() as pool:
        assert pool is None and threads.resolve_n_jobs(None) is None
    assert threads.resolve_n_jobs(3) == 3 and threads.resolve_n_jobs("blas") is None
    cores = os.cpu_count() or 1
    assert threads.resolve_n_jobs(-1) == cores  # as in scikit-learn: all cores
    assert threads.resolve_n_jobs(-2) == max(1, cores - 1)
    assert threads.resolve_n_jobs(-1000) == 1
    assert threads.resolve_n_jobs(np.int64(2)) == 2
    for bad in (0, 1.5, True, "two", 2.0):
        with pytest.raises(ValueError, match="n_jobs"):
            threads.resolve_n_jobs(bad)


def test_host_threads_limits_blas_inside_and_restores_it():
    before = _blas_threads()
    with threads.host_threads(2) as pool:
        assert isinstance(pool, ThreadPoolExecutor)
        assert _blas_threads() <= {1}
        # the workers' BLAS calls are limited too (the limit is the library's, not a thread's)
        assert pool.submit(_blas_threads).result() <= {1}
    assert _blas_threads() == before
    for blas in ("blas", None):  # None, the default, is BLAS's own threads
        with threads.host_threads(blas) as pool:
            assert pool is None and _blas_threads() == before
    with threads.host_threads(1) as pool:
        assert pool is None and _blas_threads() <= {1}


def test_beside_and_split_run_everything_once():
    order = []
    with threads.host_threads(2):
        got = threads.beside(lambda: order.append("first"), lambda: "second", 1 << 30,
                             np.zeros(1))
        seen = []
        threads.split(seen.extend, list(range(10)), 1 << 30, np.zeros(1))
    assert got == "second" and order == ["first"] and sorted(seen) == list(range(10))
    seen = []
    threads.split(seen.extend, range(5), 1 << 30, np.zeros(1))  # no workers: one call, in order
    assert seen == [0, 1, 2, 3, 4]


def _pretrained(n_jobs):
    X, _ = load_digits()
    X = X.astype(np.float32)
    sae = StackedAutoencoder((64, 48, 32, 8), random_state=0)
    with threads.host_threads(n_jobs):
        sae.pretrain_layerwise(X, iterations=20, batch_size=32, lr=0.02, optimizer="sgd")
        sae.finetune(X, iterations=25, batch_size=64, optimizer="adam",
                     augment=shifter((8, 8), 0.2))
        sae.finetune(X, iterations=5, batch_size=64, lr=0.01, optimizer="sgd", nesterov=True,
                     weight_decay=1e-3)
        z = sae.encode(X, batch_size=100)  # 18 row blocks
    return {k: v.copy() for k, v in sae.params.items()}, z


def test_training_gives_the_same_bits_with_one_thread_or_two(every_product_threaded):
    one, z_one = _pretrained(1)
    assert len(every_product_threaded) == 0
    two, z_two = _pretrained(2)
    assert len(every_product_threaded) > 100  # the products and updates did go to the worker
    for k in one:
        assert one[k].tobytes() == two[k].tobytes(), k
    assert z_one.tobytes() == z_two.tobytes()


def test_paper_widths_give_the_same_bits_with_one_thread_or_two():
    """At the paper's widths, with the package's own threshold for handing work over (the
    products split by output columns, the updates in pieces), as on a tiny network."""
    X = (np.random.default_rng(0).random((600, 784)) < 0.2).astype(np.float32) * 2

    def run(n_jobs):
        sae = StackedAutoencoder((784, 500, 500, 2000, 10), loss_reduction="mean",
                                 random_state=0)
        with threads.host_threads(n_jobs):
            sae.pretrain_layerwise(X, iterations=3, batch_size=64, lr=0.1, optimizer="sgd")
            sae.finetune(X, iterations=3, batch_size=256, optimizer="adam",
                         augment=shifter((28, 28), 0.1))
            z = sae.encode(X, batch_size=256)
        return {k: v.copy() for k, v in sae.params.items()}, z

    (one, z_one), (two, z_two) = run(1), run(2)
    for k in one:
        assert one[k].tobytes() == two[k].tobytes(), k
    assert z_one.tobytes() == z_two.tobytes()


def test_kmeans_restarts_side_by_side_keep_the_same_run(every_product_threaded):
    X = np.random.default_rng(0).standard_normal((3000, 5)).astype(np.float32)
    alone = kmeans(X, 6, n_init=7, random_state=1)
    with threads.host_threads(2):
        two = kmeans(X, 6, n_init=7, random_state=1)
    assert every_product_threaded
    assert alone[0].tobytes() == two[0].tobytes() and alone[2] == two[2]
    assert np.array_equal(alone[1], two[1])


def test_dec_n_jobs_changes_no_number(every_product_threaded):
    X, _ = load_digits()
    before = _blas_threads()
    fits = [DEC(10, hidden_dims=(48, 32, 10), schedule=SHORT, image_shape=(8, 8), max_iter=150,
                n_init=3, random_state=0, n_jobs=n).fit(X) for n in (1, 2)]
    assert every_product_threaded
    one, two = fits
    assert np.array_equal(one.labels_, two.labels_) and one.n_iter_ == two.n_iter_
    assert one.cluster_centers_.tobytes() == two.cluster_centers_.tobytes()
    assert one.transform(X).tobytes() == two.transform(X).tobytes()
    assert _blas_threads() == before  # fit leaves BLAS as it found it


def test_dec_default_runs_on_blas_threads(every_product_threaded, monkeypatch):
    """n_jobs=None: no host worker and BLAS left at its own thread count inside fit."""
    X, _ = load_digits()
    seen = []
    inner = DEC._fit

    def spy(self, *args, **kwargs):
        seen.append((threads.resolve_n_jobs(None), _blas_threads()))
        return inner(self, *args, **kwargs)

    monkeypatch.setattr(DEC, "_fit", spy)
    before = _blas_threads()
    DEC(10, hidden_dims=(16, 10), schedule=SHORT, max_iter=20, n_init=2, random_state=0).fit(X)
    assert seen == [(None, before)] and not every_product_threaded
    DEC(10, hidden_dims=(16, 10), schedule=SHORT, max_iter=20, n_init=2, random_state=0,
        n_jobs=2).fit(X)
    assert seen[1] == (2, {1}) and every_product_threaded


def test_dec_refuses_a_bad_n_jobs_before_any_work():
    X, _ = load_digits()
    with pytest.raises(ValueError, match="n_jobs"):
        DEC(10, hidden_dims=(16, 10), schedule="fast", n_jobs=0).fit(X)


def test_workers_see_the_callers_errstate():
    # a stage that diverges silences NumPy's overflow warnings; its workers must too
    big = np.full(4, 3e38, dtype=np.float32)
    with threads.host_threads(2), np.errstate(over="raise"):
        with pytest.raises(FloatingPointError):
            threads.beside(lambda: big * np.float32(10), lambda: None, 1 << 30, big)
        with np.errstate(over="ignore"), warnings.catch_warnings():
            warnings.simplefilter("error")
            threads.split(lambda part: [big * np.float32(10) for _ in part], range(4), 1 << 30, big)


def test_halves_are_fixed_by_the_shape_not_the_thread_count(every_product_threaded):
    """Dense.forward and a first layer's dW run as two fixed halves under any int n_jobs."""
    from dec_np.layers import Dense
    rng = np.random.default_rng(0)
    x = rng.standard_normal((9, 5)).astype(np.float32)
    dout = rng.standard_normal((9, 4)).astype(np.float32)
    got = {}
    for n_jobs in (1, 2, 3, "blas"):
        layer = Dense(5, 4, random_state=0)
        seen = []
        with threads.host_threads(n_jobs):
            original = threads.beside

            def spy(first, second, work, like):
                seen.append(work)
                return original(first, second, work, like)

            threads.beside, keep = spy, threads.beside
            try:
                out = layer.forward(x, train=True)
                layer.backward(dout, need_dx=False)
            finally:
                threads.beside = keep
        got[n_jobs] = (out, layer.grads["W"].copy(), layer.grads["b"].copy())
        # two products, each cut into two halves, whatever the int; "blas": whole products
        assert len(seen) == (0 if n_jobs == "blas" else 2)
    for n_jobs in (2, 3, "blas"):
        for a, b in zip(got[1], got[n_jobs]):
            np.testing.assert_allclose(a, b, rtol=1e-6)
    for a, b in zip(got[1], got[2]):
        assert np.array_equal(a, b)
    ref = x @ Dense(5, 4, random_state=0).params["W"]
    np.testing.assert_allclose(got[1][0], ref, rtol=1e-6)
    np.testing.assert_allclose(got[1][1], x.T @ dout, rtol=1e-6)


def test_the_calling_thread_takes_the_larger_half(every_product_threaded):
    """The worker starts a hand-over late, so it gets the smaller part of an uneven cut."""
    here, where = threading.get_ident(), {}

    def fn(s):
        where[(s.start, s.stop)] = threading.get_ident()

    with threads.host_threads(2):
        threads.halves(fn, 500, 1 << 30, np.zeros(1), unit=64)  # 256 columns and 244
    assert where[(0, 256)] == here and where[(256, 500)] != here


def test_nested_work_runs_in_the_calling_thread(every_product_threaded):
    """Work handed out from inside a share (an encoding's row block calling a layer's halves)
    runs where it is, so a busy worker never waits for itself."""
    sae = StackedAutoencoder((16, 12, 3), random_state=0)
    X = np.random.default_rng(1).random((40, 16)).astype(np.float32)
    with threads.host_threads(1):
        ref = sae.encode(X, batch_size=8)
    with threads.host_threads(2):
        got = sae.encode(X, batch_size=8)  # row blocks side by side, halves inside each
    assert np.array_equal(ref, got)


def test_adams_pieces_are_as_many_times_longer_as_threads_share_them():
    """Shared between two threads, Adam's pieces have 2 x CHUNK elements (fewer hand-overs
    of the GIL); in one thread CHUNK; the weights are the same to the bit either way."""
    from dec_np import optim

    rng = np.random.default_rng(0)
    w0 = rng.standard_normal(5 * optim.CHUNK + 3).astype(np.float32)
    g = (rng.standard_normal(w0.size) * 1e-2).astype(np.float32)
    out, longest = {}, {}
    for n_jobs in (1, 2):
        w, opt = w0.copy(), optim.Adam(1e-2)
        with threads.host_threads(n_jobs):
            for _ in range(3):
                opt.step({"w": w}, {"w": g})
        out[n_jobs] = w
        longest[n_jobs] = max(p[0].size for p in opt._plan["pieces"])
    assert longest == {1: optim.CHUNK, 2: 2 * optim.CHUNK}
    assert out[1].tobytes() == out[2].tobytes()
    assert not np.array_equal(out[1], w0)

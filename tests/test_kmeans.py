"""Tests for dec_np.kmeans: distances, seeding, Lloyd, restarts and the estimator, per backend."""
import numpy as np
import pytest

from dec_np.backend import asnumpy
from dec_np.kmeans import (KMeans, _argmin_axis0, kmeans, kmeans_plusplus, lloyd,
                           squared_distances)

sk_cluster = pytest.importorskip("sklearn.cluster")
sk_datasets = pytest.importorskip("sklearn.datasets")
threadpoolctl = pytest.importorskip("threadpoolctl")


def _datasets():
    rng = np.random.default_rng(0)
    X1, _ = sk_datasets.make_blobs(2000, n_features=2, centers=5, random_state=1)
    X2, _ = sk_datasets.make_blobs(3000, n_features=10, centers=10, cluster_std=3.0,
                                   random_state=2)
    X3, _ = sk_datasets.make_blobs(1500, n_features=5, centers=6,
                                   cluster_std=[0.5, 1.0, 2.0, 0.3, 1.5, 4.0], random_state=3)
    X3 = X3 @ rng.normal(size=(5, 5))  # anisotropic
    X4 = rng.normal(size=(2000, 10))
    return [("blobs2d", X1, 5), ("blobs10d", X2, 10), ("aniso", X3, 6), ("random10d", X4, 8)]


def _brute_distances(X, C):
    X, C = asnumpy(X).astype(np.float64), asnumpy(C).astype(np.float64)
    return ((X[:, None, :] - C[None, :, :]) ** 2).sum(-1)


@pytest.mark.parametrize("name,X,k", _datasets(), ids=lambda v: v if isinstance(v, str) else "")
def test_inertia_close_to_sklearn(xp, name, X, k):
    with threadpoolctl.threadpool_limits(1):   # OpenMP threads crawl on shared, busy cores
        ref = sk_cluster.KMeans(k, n_init=20, random_state=0).fit(X)
    _, _, inertia = kmeans(xp.asarray(X), k, n_init=20, random_state=0)
    assert inertia <= 1.01 * ref.inertia_
    _, _, inertia32 = kmeans(xp.asarray(X, dtype=xp.float32), k, random_state=0)
    assert inertia32 <= 1.01 * ref.inertia_


def test_labels_and_centers_consistent(xp):
    X = xp.asarray(_datasets()[1][1])
    centers, labels, inertia = kmeans(X, 10, n_init=3, tol=0.0, random_state=1)
    d = _brute_distances(X, centers)
    labels = asnumpy(labels)
    np.testing.assert_array_equal(labels, d.argmin(1))
    assert inertia == pytest.approx(d.min(1).sum(), rel=1e-10)
    Xh = asnumpy(X)
    means = np.stack([Xh[labels == j].mean(0) for j in range(10)])
    np.testing.assert_allclose(asnumpy(centers), means, rtol=1e-10, atol=1e-10)


def test_empty_cluster_repair(xp):
    X = xp.asarray([[0.0], [1.0], [3.0], [10.0]])
    start = xp.asarray([[1.0], [10.0], [100.0]])     # the third centre gets no point
    centers, labels, inertia, n_iter = lloyd(X, start, max_iter=1)
    # it takes x = 3, the point farthest from its centre; cluster 0 keeps 0 and 1
    np.testing.assert_allclose(asnumpy(centers), [[0.5], [10.0], [3.0]])
    np.testing.assert_array_equal(asnumpy(labels), [0, 0, 2, 1])
    assert n_iter == 1 and inertia == pytest.approx(0.5)
    centers, labels, _, _ = lloyd(X, start)
    assert len(np.unique(asnumpy(labels))) == 3


def test_fewer_distinct_points_than_clusters(xp):
    X = xp.asarray(np.repeat([[0.0, 0.0], [1.0, 1.0], [5.0, 0.0]], 10, axis=0))
    centers, labels, inertia = kmeans(X, 5, n_init=3, random_state=0)
    assert inertia == pytest.approx(0.0, abs=1e-12)
    assert np.isfinite(asnumpy(centers)).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_chunked_distances_equal_unchunked(xp, dtype):
    rng = np.random.default_rng(3)
    X = xp.asarray(rng.normal(size=(1003, 7)), dtype=dtype)
    C = xp.asarray(rng.normal(size=(13, 7)), dtype=dtype)
    full = squared_distances(X, C)
    assert full.dtype == dtype and full.shape == (1003, 13)
    out = xp.empty((1003, 13), dtype=dtype)
    tight = 1e-6 if dtype == np.float32 else 1e-13   # BLAS kernels differ with block shape
    for chunk in (1, 7, 500, 5000):
        np.testing.assert_allclose(asnumpy(squared_distances(X, C, chunk_size=chunk)),
                                   asnumpy(full), rtol=tight, atol=tight)
    assert squared_distances(X, C, out=out, x_squared_norms=(X * X).sum(1)) is out
    np.testing.assert_allclose(asnumpy(out), asnumpy(full), rtol=1e-5, atol=1e-5)
    rtol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(asnumpy(full), _brute_distances(X, C), rtol=rtol, atol=rtol)
    assert float(squared_distances(X, X[:50]).min()) >= 0.0   # clipped at zero


def test_argmin_matches_numpy_argmin(xp):
    rng = np.random.default_rng(4)
    for k in (1, 2, 10, 300):
        D = rng.integers(0, 5, size=(k, 999)).astype(np.float32)   # many ties
        labels, d_min = _argmin_axis0(xp.asarray(D))
        np.testing.assert_array_equal(asnumpy(labels), D.argmin(0))
        np.testing.assert_array_equal(asnumpy(d_min), D.min(0))


def test_float32_preserved(xp):
    X = xp.asarray(_datasets()[0][1], dtype=xp.float32)
    centers, labels, inertia = kmeans(X, 5, n_init=2, random_state=0)
    assert centers.dtype == np.float32 and labels.dtype == np.int64
    assert isinstance(inertia, float)
    assert kmeans_plusplus(X, 5, 0).dtype == np.float32
    assert lloyd(X, X[:5])[0].dtype == np.float32
    km = KMeans(5, n_init=2, random_state=0).fit(X)
    assert km.cluster_centers_.dtype == np.float32
    int_centers = kmeans(xp.asarray([[0, 0], [0, 1], [5, 5], [5, 6]]), 2, random_state=0)[0]
    assert int_centers.dtype == np.float64


def test_reproducible(xp):
    X = xp.asarray(_datasets()[3][1], dtype=xp.float32)
    a = kmeans(X, 8, n_init=3, random_state=42)
    b = kmeans(X, 8, n_init=3, random_state=42)
    np.testing.assert_array_equal(asnumpy(a[0]), asnumpy(b[0]))
    np.testing.assert_array_equal(asnumpy(a[1]), asnumpy(b[1]))
    assert a[2] == b[2]
    c = kmeans(X, 8, n_init=3, random_state=np.random.default_rng(42))
    np.testing.assert_array_equal(asnumpy(a[1]), asnumpy(c[1]))


def test_backends_agree(xp):
    X = _datasets()[1][1]
    ref = kmeans(X, 10, n_init=2, random_state=5)
    got = kmeans(xp.asarray(X), 10, n_init=2, random_state=5)
    assert got[2] == pytest.approx(ref[2], rel=1e-9)
    np.testing.assert_array_equal(asnumpy(got[1]), ref[1])


def test_kmeans_plusplus(xp):
    X = xp.asarray(np.random.default_rng(6).normal(size=(6, 3)))
    centers = asnumpy(kmeans_plusplus(X, 6, np.random.default_rng(0)))
    # with k = n every point is picked exactly once
    Xh = asnumpy(X)
    np.testing.assert_array_equal(np.sort(centers, axis=0), np.sort(Xh, axis=0))
    assert len({tuple(c) for c in centers}) == 6
    X = xp.asarray(_datasets()[0][1])
    centers = asnumpy(kmeans_plusplus(X, 5, 0))
    assert all((asnumpy(X) == c).all(1).any() for c in centers)   # centres are data points
    np.testing.assert_array_equal(centers, asnumpy(kmeans_plusplus(X, 5, 0)))


def test_single_cluster(xp):
    X = xp.asarray(np.random.default_rng(7).normal(size=(100, 4)))
    centers, labels, inertia = kmeans(X, 1, n_init=1)
    Xh = asnumpy(X)
    np.testing.assert_allclose(asnumpy(centers)[0], Xh.mean(0), atol=1e-12)
    assert inertia == pytest.approx(((Xh - Xh.mean(0)) ** 2).sum())
    assert (asnumpy(labels) == 0).all()


def test_estimator(xp):
    X = xp.asarray(_datasets()[0][1], dtype=xp.float32)
    km = KMeans(5, n_init=5, random_state=0)
    assert km.fit(X) is km
    assert isinstance(km.cluster_centers_, xp.ndarray) and isinstance(km.labels_, xp.ndarray)
    assert km.cluster_centers_.shape == (5, 2) and km.labels_.shape == (2000,)
    assert km.n_iter_ >= 1 and km.inertia_ > 0 and km.n_features_in_ == 2
    np.testing.assert_array_equal(asnumpy(km.predict(X)), asnumpy(km.labels_))
    labels_host = km.predict(asnumpy(X))                 # centres follow the input's device
    assert isinstance(labels_host, np.ndarray)
    np.testing.assert_array_equal(labels_host, asnumpy(km.labels_))
    np.testing.assert_array_equal(asnumpy(KMeans(5, n_init=5, random_state=0).fit_predict(X)),
                                  asnumpy(km.labels_))


def test_validation(xp):
    X = xp.asarray(np.random.default_rng(8).normal(size=(10, 2)))
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        kmeans(bad, 2)
    bad[3, 1] = np.inf
    with pytest.raises(ValueError, match="NaN or inf"):
        KMeans(2).fit(bad)
    for shape in [(10,), (2, 5, 1)]:
        with pytest.raises(ValueError, match="2-D"):
            kmeans(xp.zeros(shape), 1)
    for k in (0, 11, 2.5):
        with pytest.raises(ValueError, match="n_clusters"):
            kmeans(X, k)
    with pytest.raises(ValueError):
        kmeans(X, 2, n_init=0)
    with pytest.raises(ValueError, match="not fitted"):
        KMeans(2).predict(X)
    km = KMeans(2, n_init=1).fit(X)
    with pytest.raises(ValueError, match="features"):
        km.predict(xp.zeros((3, 3)))
    with pytest.raises(ValueError):
        squared_distances(X, xp.zeros((2, 3)))


def test_estimator_contract_as_decs():
    """Clone, parameters, repr and the unfitted error behave as DEC's (clone raised)."""
    from dec_np.base import NotFittedError
    km = KMeans(3, n_init=2, random_state=0)
    assert km.get_params() == {"n_clusters": 3, "n_init": 2, "max_iter": 300, "tol": 1e-4,
                               "random_state": 0}
    assert repr(km) == "KMeans(n_clusters=3, n_init=2, random_state=0)"
    assert km.set_params(tol=0.0) is km and km.tol == 0.0
    with pytest.raises(NotFittedError, match="not fitted") as info:
        km.predict(np.zeros((2, 2)))  # a plain ValueError before
    assert isinstance(info.value, ValueError) and isinstance(info.value, AttributeError)
    sklearn_base = pytest.importorskip("sklearn.base")
    from sklearn.exceptions import NotFittedError as SklearnNotFittedError
    from sklearn.utils.validation import check_is_fitted
    with pytest.raises(SklearnNotFittedError):
        km.predict(np.zeros((2, 2)))
    with pytest.raises(SklearnNotFittedError):
        check_is_fitted(km)
    X = np.random.default_rng(0).normal(size=(30, 2))
    twin = sklearn_base.clone(km.fit(X))
    assert twin is not km and not hasattr(twin, "labels_") and twin.get_params() == km.get_params()
    np.testing.assert_array_equal(twin.fit(X).labels_, km.labels_)
    assert sklearn_base.is_clusterer(km)


@pytest.mark.parametrize("kwargs, match", [
    ({"n_init": 1.5}, "n_init"), ({"max_iter": 0}, "max_iter"), ({"tol": -1.0}, "tol"),
    ({"tol": float("nan")}, "tol"), ({"n_init": True}, "n_init")])
def test_settings_are_checked(kwargs, match):
    X = np.random.default_rng(0).normal(size=(10, 2))
    with pytest.raises(ValueError, match=match):
        kmeans(X, 2, **kwargs)
    with pytest.raises(ValueError, match=match):
        KMeans(2, **kwargs).fit(X)


@pytest.mark.filterwarnings("ignore")
def test_scikit_learns_check_estimator_passes():
    pytest.importorskip("sklearn")
    from sklearn.utils.estimator_checks import check_estimator
    results = check_estimator(KMeans(2, n_init=2, random_state=0), on_fail=None)
    failed = {r["check_name"]: str(r["exception"])[:200] for r in results
              if r["status"] == "failed"}
    assert not failed and len(results) > 40

"""Tests for dec_np.metrics: known values, scikit-learn agreement, brute force for ACC."""
import itertools

import numpy as np
import pytest

from dec_np.metrics import ari, best_mapping, cluster_accuracy, contingency_matrix, nmi

sk_metrics = pytest.importorskip("sklearn.metrics")


def _random_labelings(n_cases=200, seed=0):
    """Seeded labelings of various sizes, with k != number of classes and skewed sizes."""
    rng = np.random.default_rng(seed)
    for _ in range(n_cases):
        n = int(rng.integers(1, 400))
        n_classes, n_clusters = int(rng.integers(1, 12)), int(rng.integers(1, 15))
        p = rng.dirichlet(np.full(n_clusters, rng.choice([0.3, 1.0, 5.0])))
        y_true = rng.integers(0, n_classes, size=n)
        if rng.random() < 0.3:  # correlated with y_true
            y_pred = np.where(rng.random(n) < 0.7, y_true % n_clusters,
                              rng.choice(n_clusters, size=n, p=p))
        else:
            y_pred = rng.choice(n_clusters, size=n, p=p)
        yield y_true, y_pred


def _brute_force_accuracy(y_true, y_pred):
    classes, clusters = np.unique(y_true), np.unique(y_pred)
    best = 0
    # every injective map from the smaller label set into the larger one
    if len(clusters) <= len(classes):
        for perm in itertools.permutations(classes, len(clusters)):
            m = dict(zip(clusters, perm))
            best = max(best, sum(m[c] == t for c, t in zip(y_pred, y_true)))
    else:
        for perm in itertools.permutations(clusters, len(classes)):
            m = dict(zip(perm, classes))
            best = max(best, sum(m.get(c) == t for c, t in zip(y_pred, y_true)))
    return best / len(y_true)


def test_nmi_ari_agree_with_sklearn():
    for y_true, y_pred in _random_labelings():
        assert nmi(y_true, y_pred) == pytest.approx(
            sk_metrics.normalized_mutual_info_score(y_true, y_pred), abs=1e-12, rel=0)
        assert ari(y_true, y_pred) == pytest.approx(
            sk_metrics.adjusted_rand_score(y_true, y_pred), abs=1e-12, rel=0)


def test_large_n_ari_no_overflow():
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 10, size=200_000)
    y_pred = np.where(rng.random(200_000) < 0.5, y_true, rng.integers(0, 10, size=200_000))
    assert ari(y_true, y_pred) == pytest.approx(sk_metrics.adjusted_rand_score(y_true, y_pred),
                                                abs=1e-12, rel=0)
    assert nmi(y_true, y_pred) == pytest.approx(
        sk_metrics.normalized_mutual_info_score(y_true, y_pred), abs=1e-12, rel=0)


def test_accuracy_against_brute_force():
    rng = np.random.default_rng(2)
    for _ in range(60):
        n = int(rng.integers(1, 40))
        y_true = rng.integers(0, int(rng.integers(1, 5)), size=n)
        y_pred = rng.integers(0, int(rng.integers(1, 6)), size=n)
        expected = _brute_force_accuracy(y_true, y_pred)
        assert cluster_accuracy(y_true, y_pred) == pytest.approx(expected)


def test_accuracy_known_values():
    y = np.array([0, 0, 1, 1, 2, 2, 2])
    perm = np.array([2, 0, 1])
    assert cluster_accuracy(y, perm[y]) == 1.0
    assert cluster_accuracy(y, np.zeros_like(y)) == pytest.approx(3 / 7)   # best class is 2
    # more clusters than classes: the unmatched cluster (3) counts as wrong
    assert cluster_accuracy([0, 0, 1, 1], [0, 0, 1, 3]) == pytest.approx(3 / 4)
    # fewer clusters than classes
    assert cluster_accuracy([0, 1, 2, 2], [5, 5, 7, 7]) == pytest.approx(3 / 4)
    # string labels
    assert cluster_accuracy(["a", "a", "b"], [1, 1, 0]) == 1.0


def test_best_mapping():
    y_true = np.array([0, 0, 1, 1, 2, 2])
    y_pred = np.array([7, 7, 3, 3, 3, 5])
    m = best_mapping(y_true, y_pred)
    assert m[7] == 0
    assert set(m) == {3, 5, 7} and sorted(m.values()) == [0, 1, 2]
    assert all(isinstance(k, int) and isinstance(v, int) for k, v in m.items())
    mapped = np.array([m.get(c, -1) for c in y_pred])
    assert np.mean(mapped == y_true) == pytest.approx(cluster_accuracy(y_true, y_pred))
    # more clusters than classes: unmatched clusters are left out
    assert len(best_mapping([0, 0, 1, 1], [0, 1, 2, 3])) == 2


def test_contingency_matrix():
    table = contingency_matrix([0, 0, 1, 2], [1, 1, 1, 0])
    np.testing.assert_array_equal(table, [[0, 2], [0, 1], [1, 0]])
    np.testing.assert_array_equal(
        table, sk_metrics.cluster.contingency_matrix([0, 0, 1, 2], [1, 1, 1, 0]))


def test_edge_cases():
    y = np.array([3, 1, 1, 2, 0])
    assert nmi(y, y) == 1.0 and ari(y, y) == 1.0 and cluster_accuracy(y, y) == 1.0
    const = np.zeros(5, dtype=int)
    assert nmi(const, const + 4) == 1.0 and ari(const, const + 4) == 1.0
    assert nmi(y, const) == 0.0                      # single cluster, several classes
    assert ari(y, const) == pytest.approx(sk_metrics.adjusted_rand_score(y, const))
    assert nmi([0], [1]) == 1.0 and ari([0], [1]) == 1.0
    singletons = np.arange(6)
    assert nmi(singletons, singletons[::-1]) == pytest.approx(1.0)
    assert ari(singletons, singletons[::-1]) == 1.0


def test_validation():
    with pytest.raises(ValueError):
        nmi([0, 1], [0, 1, 1])
    with pytest.raises(ValueError):
        ari([0, 1], [0])
    with pytest.raises(ValueError):
        cluster_accuracy(np.zeros((2, 2)), np.zeros((2, 2)))
    with pytest.raises(ValueError):
        contingency_matrix([], [])


def test_device_arrays(xp):
    y_true = xp.asarray([0, 0, 1, 1, 2])
    y_pred = xp.asarray([1, 1, 0, 0, 0])
    assert cluster_accuracy(y_true, y_pred) == pytest.approx(0.8)
    assert nmi(y_true, y_pred) == pytest.approx(
        sk_metrics.normalized_mutual_info_score([0, 0, 1, 1, 2], [1, 1, 0, 0, 0]), abs=1e-12, rel=0)
    assert ari(y_true, y_pred) == pytest.approx(
        sk_metrics.adjusted_rand_score([0, 0, 1, 1, 2], [1, 1, 0, 0, 0]), abs=1e-12, rel=0)
    assert best_mapping(y_true, y_pred) == {1: 0, 0: 1}


@pytest.mark.parametrize("metric", [cluster_accuracy, nmi, ari])
@pytest.mark.parametrize("bad", [np.nan, np.inf, None])
def test_missing_labels_are_refused(metric, bad):
    # NaN labels gave ACC 0.667 and NMI 1.0: a NaN formed a class of its own
    y = np.array([0, 1, bad], dtype=object if bad is None else float)
    with pytest.raises(ValueError, match="y_true contains 1 missing or infinite label"):
        metric(y, [0, 1, 1])
    with pytest.raises(ValueError, match="y_pred contains 1 missing or infinite label"):
        metric([0, 1, 1], y)


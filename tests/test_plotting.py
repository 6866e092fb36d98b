"""Tests for dec_np.plotting: every function draws a non-empty PNG from tiny random input."""
import numpy as np
import pytest

from dec_np import plotting


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def _png_ok(path):
    data = path.read_bytes()
    return len(data) > 1000 and data[:8] == b"\x89PNG\r\n\x1a\n"


def test_pca_2d_matches_svd_projection(rng):
    Z = rng.standard_normal((50, 5)) * np.array([5.0, 3.0, 1.0, 0.5, 0.1])
    P = plotting.pca_2d(Z)
    assert P.shape == (50, 2)
    np.testing.assert_allclose(P.mean(axis=0), 0, atol=1e-12)
    # the two components are uncorrelated and ordered by variance
    C = np.cov(P.T)
    assert abs(C[0, 1]) < 1e-8 and C[0, 0] >= C[1, 1]
    assert plotting.pca_2d(Z[:, :1]).shape == (50, 2)


def test_cluster_examples(tmp_path, rng):
    X = rng.random((40, 16))
    q = rng.dirichlet(np.ones(3), size=40)
    fig = plotting.plot_cluster_examples(X, q, (4, 4), n_per_cluster=5, path=tmp_path / "a.png")
    assert _png_ok(tmp_path / "a.png") and fig is not None


def test_cluster_examples_with_an_empty_cluster(tmp_path, rng):
    q = np.zeros((6, 3))
    q[:, 0] = 1.0  # clusters 1 and 2 get no member: blank rows, no error
    plotting.plot_cluster_examples(rng.random((6, 4)), q, (2, 2), n_per_cluster=3,
                                   path=tmp_path / "b.png")
    assert _png_ok(tmp_path / "b.png")


def test_gradient_magnitude(tmp_path, rng):
    plotting.plot_gradient_magnitude(rng.random(60), rng.random(60), rng.random((60, 16)), (4, 4),
                                     path=tmp_path / "g.png")
    assert _png_ok(tmp_path / "g.png")


def test_embedding_stages(tmp_path, rng):
    y = rng.integers(0, 3, 30)
    Z = [rng.standard_normal((30, 4)), rng.standard_normal((30, 2))]
    plotting.plot_embedding_stages(Z, y, ["a", "b"], path=tmp_path / "e.png")
    assert _png_ok(tmp_path / "e.png")
    with pytest.raises(ValueError):
        plotting.plot_embedding_stages(Z, y, ["a", "b"], method="tsne")


@pytest.mark.parametrize("with_acc", [True, False])
def test_training_curves(tmp_path, rng, with_acc):
    h = {"iteration": [0, 10, 20], "loss": [0.3, 0.2, 0.1], "delta_label": [1.0, 0.1, 0.0]}
    if with_acc:
        h.update(acc=[0.5, 0.6, 0.7], nmi=[0.4, 0.5, 0.6])
    plotting.plot_training_curves(h, path=tmp_path / "t.png")
    assert _png_ok(tmp_path / "t.png")


def test_confusion(tmp_path, rng):
    y = rng.integers(0, 3, 50)
    y_pred = rng.integers(0, 4, 50)  # one more cluster than classes: an unmatched column
    plotting.plot_confusion(y, y_pred, path=tmp_path / "c.png")
    assert _png_ok(tmp_path / "c.png")


def test_select_k(tmp_path):
    plotting.plot_select_k([2, 3, 4], [0.9, 0.8, 0.5], [0.3, 0.5, 0.4], path=tmp_path / "k.png")
    assert _png_ok(tmp_path / "k.png")


def test_reconstructions(tmp_path, rng):
    plotting.plot_reconstructions(rng.random((5, 16)), rng.random((5, 16)), (4, 4),
                                  path=tmp_path / "r.png")
    assert _png_ok(tmp_path / "r.png")


def test_loss_history(tmp_path):
    plotting.plot_loss_history({"layer0": [3.0, 2.0, 1.5], "finetune": [1.0, 0.8]},
                               path=tmp_path / "l.png")
    plotting.plot_loss_history([1.0, -0.5, 0.2], path=tmp_path / "m.png")  # not all positive
    assert _png_ok(tmp_path / "l.png") and _png_ok(tmp_path / "m.png")


def test_no_path_returns_figure_without_writing(tmp_path, rng):
    fig = plotting.plot_select_k([2, 3], [1.0, 0.9], [0.5, 0.6])
    assert fig.axes and not list(tmp_path.iterdir())

import numpy as np
import pytest

from dec_np.dec_math import kl_divergence, kl_gradients, soft_assignment, target_distribution
from dec_np.gradcheck import numerical_gradient, rel_error


def test_two_point_example_by_hand(xp):
    z = xp.asarray([[0.0, 0.0], [3.0, 0.0]])
    mu = xp.asarray([[0.0, 0.0], [1.0, 0.0]])
    q = soft_assignment(z, mu, alpha=1.0)
    # point 0: kernels 1 and 1/2 -> (2/3, 1/3); point 1: 1/10 and 1/5 -> (1/3, 2/3)
    np.testing.assert_allclose(q.tolist(), [[2 / 3, 1 / 3], [1 / 3, 2 / 3]], rtol=1e-12)
    p = target_distribution(q)
    # f = (1, 1): p rows are q^2 normalised: (4/5, 1/5), (1/5, 4/5)
    np.testing.assert_allclose(p.tolist(), [[0.8, 0.2], [0.2, 0.8]], rtol=1e-12)
    expected = 2 * (0.8 * np.log(0.8 / (2 / 3)) + 0.2 * np.log(0.2 / (1 / 3)))
    assert kl_divergence(p, q) == pytest.approx(expected, rel=1e-12)


def test_target_distribution_divides_by_frequency(xp):
    q = xp.asarray([[0.9, 0.1], [0.9, 0.1], [0.9, 0.1], [0.4, 0.6]])
    p = target_distribution(q)
    f = np.array([3.1, 0.9])
    w = np.array([0.4, 0.6]) ** 2 / f
    assert float(p[3, 1]) == pytest.approx(w[1] / w.sum(), rel=1e-12)
    assert float(p[0, 0]) > 0.9  # squaring sharpens confident rows


@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0, 10.0])
def test_rows_sum_to_one(xp, alpha):
    rng = np.random.default_rng(0)
    z, mu = xp.asarray(rng.standard_normal((50, 4))), xp.asarray(rng.standard_normal((6, 4)))
    q = soft_assignment(z, mu, alpha)
    p = target_distribution(q)
    assert q.shape == p.shape == (50, 6)
    np.testing.assert_allclose(q.sum(1).tolist(), 1.0, rtol=1e-12)
    np.testing.assert_allclose(p.sum(1).tolist(), 1.0, rtol=1e-12)


@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0, 10.0])
def test_kl_gradients_match_finite_differences(xp, alpha):
    rng = np.random.default_rng(int(alpha * 10))
    z, mu = xp.asarray(rng.standard_normal((8, 3))), xp.asarray(rng.standard_normal((4, 3)))
    p = target_distribution(soft_assignment(z, mu, alpha))
    z = z + xp.asarray(0.3 * rng.standard_normal(z.shape))  # p is now a fixed target, not q's own
    q = soft_assignment(z, mu, alpha)
    dz, dmu = kl_gradients(z, mu, p, q, alpha)
    f = lambda _: kl_divergence(p, soft_assignment(z, mu, alpha))
    assert rel_error(dz, numerical_gradient(f, z)) < 1e-6
    assert rel_error(dmu, numerical_gradient(f, mu)) < 1e-6


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")  # |z|^2 = inf is the point
def test_numerically_safe_in_float32(xp):
    z = xp.asarray([[0.0, 0.0], [1e6, 1e6], [1e18, -1e18], [5.0, 5.0]], dtype=xp.float32)
    mu = xp.asarray([[0.0, 0.0], [1e3, 0.0], [-1e19, 3e19]], dtype=xp.float32)
    for alpha in (0.5, 1.0, 10.0):
        q = soft_assignment(z, mu, alpha)
        p = target_distribution(q)
        dz, dmu = kl_gradients(z, mu, p, q, alpha)
        for a in (q, p, dz, dmu):
            assert a.dtype == xp.float32 and bool(xp.isfinite(a).all())
        assert np.isfinite(kl_divergence(p, q))
    # a cluster nobody is near: tiny f_j must not give NaN
    q = xp.asarray([[1.0, 0.0], [1.0, 1e-30]], dtype=xp.float32)
    p = target_distribution(q)
    assert bool(xp.isfinite(p).all())
    np.testing.assert_allclose(p.sum(1).tolist(), 1.0, rtol=1e-6)

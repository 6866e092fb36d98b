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


# -- what the equations refuse ------------------------------------------------------------------
from dec_np.dec_math import squared_distances  # noqa: E402


def _pq(xp):
    q = xp.asarray([[0.7, 0.3], [0.2, 0.8], [0.5, 0.5]])
    return target_distribution(q), q


@pytest.mark.parametrize("bad, match", [
    ("nan_z", "z contains NaN or inf"), ("inf_mu", "mu contains NaN or inf"),
    ("width", "mu has 3 columns but z has 2"), ("1d", "z must be 2-D")])
def test_soft_assignment_refuses_points_it_cannot_use(xp, bad, match):
    z, mu = xp.asarray([[0.0, 1.0], [2.0, 0.0]]), xp.asarray([[0.0, 0.0], [1.0, 1.0]])
    if bad == "nan_z":
        z[0, 0] = xp.nan
    elif bad == "inf_mu":
        mu[1, 1] = xp.inf
    elif bad == "width":
        mu = xp.zeros((2, 3))
    else:
        z = z[0]
    for f in (lambda: soft_assignment(z, mu), lambda: squared_distances(z, mu)):
        with pytest.raises(ValueError, match=match):
            f()


@pytest.mark.parametrize("alpha", [0, -1.0, float("nan"), float("inf"), True, "1"])
def test_alpha_must_be_finite_and_positive(xp, alpha):
    z, mu = xp.asarray([[0.0], [1.0]]), xp.asarray([[0.0], [2.0]])
    p, q = _pq(xp)
    with pytest.raises(ValueError, match="alpha must be a finite number > 0"):
        soft_assignment(z, mu, alpha)
    with pytest.raises(ValueError, match="alpha must be a finite number > 0"):
        kl_gradients(z, mu, p[:2], q[:2], alpha)  # alpha = 0 was a ZeroDivisionError


@pytest.mark.parametrize("dtype", ["int8", "int64", "bool", "complex128"])
def test_non_float_input_is_a_type_error(xp, dtype):
    # int8: 100 against centroids 0 and 120 gave q = [0.895, 0.105] (100 * 100 overflows);
    # complex input gave a complex q
    z, mu = xp.asarray([[100]]).astype(dtype), xp.asarray([[0], [120]]).astype(dtype)
    with pytest.raises(TypeError, match=f"z must hold real floating-point numbers.*{dtype}"):
        soft_assignment(z, mu)
    with pytest.raises(TypeError, match="q must hold real floating-point"):
        target_distribution(xp.asarray([[1, 0], [0, 1]]).astype(dtype))
    with pytest.raises(TypeError, match="must be a NumPy or CuPy array"):
        soft_assignment([[0.0]], [[1.0]])


def test_float32_points_beyond_the_square_root_of_its_range(xp):
    """|z|^2 overflows float32 at 1.8e19: q is computed in float64 and rounded back, not NaN."""
    z = xp.asarray([[1e20, 0.0], [0.0, 0.0], [3e19, 1.0]], dtype=xp.float32)
    mu = xp.asarray([[0.0, 0.0], [1e20, 1.0]], dtype=xp.float32)
    q = soft_assignment(z, mu)
    assert q.dtype == xp.float32 and bool(xp.isfinite(q).all())
    # the third point: kernels 1 / (1 + 9e38) and 1 / (1 + 49e38), so q = (49, 9) / 58
    np.testing.assert_allclose(q.tolist(), [[0, 1], [1, 0], [49 / 58, 9 / 58]], atol=1e-6)
    # where float64 overflows as well (alpha 1e-300), the error says so
    with pytest.raises(ValueError, match=r"q is not finite in float64.*alpha=1e-300"):
        soft_assignment(xp.asarray([[1e10]]), xp.asarray([[0.0], [1.0]]), 1e-300)


def test_target_distribution_refuses_rows_that_are_no_distribution(xp):
    with pytest.raises(ValueError, match=r"q has 1 all-zero row\(s\) \(row 1 first\)"):
        target_distribution(xp.asarray([[0.5, 0.5], [0.0, 0.0]]))  # was a NaN row
    with pytest.raises(ValueError, match="q has negative entries"):
        target_distribution(xp.asarray([[1.5, -0.5], [0.5, 0.5]]))
    with pytest.raises(ValueError, match="q contains NaN or inf"):
        target_distribution(xp.asarray([[xp.nan, 0.5]]))


def test_kl_divergence_refuses_mismatched_or_negative_input(xp):
    p, q = _pq(xp)
    with pytest.raises(ValueError, match=r"q must have the shape \(1, 2\) of p, got \(3, 2\)"):
        kl_divergence(p[:1], q)  # broadcast to 4.5886
    with pytest.raises(ValueError, match="p has negative entries"):
        kl_divergence(-p, q)  # returned 0.0
    with pytest.raises(ValueError, match="all-zero row"):
        kl_divergence(xp.zeros_like(p), q)
    with pytest.raises(ValueError, match="q contains NaN"):
        kl_divergence(p, q * xp.nan)


def test_kl_gradients_refuse_p_or_q_of_another_shape(xp):
    z, mu = xp.asarray([[0.0], [1.0], [3.0]]), xp.asarray([[0.0], [2.0]])
    p, q = _pq(xp)
    for args, name in (((p[:1], q), "p"), ((p[:, :1], q), "p"), ((p, q[:2]), "q")):
        shape = r"\(3, 2\) of \(rows of z, rows of mu\)"
        with pytest.raises(ValueError, match=f"{name} must have the shape {shape}"):
            kl_gradients(z, mu, *args)  # broadcast silently


def test_the_unchecked_internals_compute_the_same(xp):
    from dec_np import dec_math
    rng = np.random.default_rng(0)
    z, mu = xp.asarray(rng.standard_normal((7, 3))), xp.asarray(rng.standard_normal((4, 3)))
    q = soft_assignment(z, mu, 2.0)
    p = target_distribution(q)
    assert bool((dec_math._soft_assignment(z, mu, 2.0) == q).all())
    assert bool((dec_math._target_distribution(q) == p).all())
    assert dec_math._kl_divergence(p, q) == kl_divergence(p, q)
    for a, b in zip(dec_math._kl_gradients(z, mu, p, q, 2.0), kl_gradients(z, mu, p, q, 2.0)):
        assert bool((a == b).all())

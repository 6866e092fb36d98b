import numpy as np

from dec_np.gradcheck import check_all, directional_check, numerical_gradient, rel_error, report


def test_numerical_gradient_of_a_known_function():
    x = np.array([1.0, -2.0, 0.5])
    g = numerical_gradient(lambda v: (v ** 3).sum(), x)
    np.testing.assert_allclose(g, 3 * x ** 2, rtol=1e-8)
    np.testing.assert_array_equal(x, [1.0, -2.0, 0.5])  # restored


def test_rel_error():
    assert rel_error(np.ones(3), np.ones(3)) == 0.0
    assert abs(rel_error(np.array([1.0]), np.array([1.1])) - 0.1 / 2.1) < 1e-12
    assert rel_error(np.zeros(2), np.zeros(2)) == 0.0  # the 1e-8 floor


def test_directional_check_catches_a_wrong_gradient():
    x = np.random.default_rng(0).standard_normal((20, 30))
    f = lambda v: (np.sin(v) * v).sum()
    good = np.sin(x) + x * np.cos(x)
    assert directional_check(f, x, good) < 1e-8
    assert directional_check(f, x, good * 1.01) > 1e-3


def test_every_check_of_the_package_passes():
    errors = check_all()
    assert len(errors) >= 30
    assert max(errors.values()) < 1e-6, report(errors)
    assert "FAIL" not in report(errors) and "KL(alpha=10).mu" in errors

"""nearest_neighbours: each point's k nearest other points, nearest first, in blocks."""
import numpy as np
import pytest

from dec_np.neighbours import nearest_neighbours


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_k_nearest_other_points_nearest_first(dtype):
    z = np.random.default_rng(0).standard_normal((300, 10)).astype(dtype)
    d = ((z[:, None].astype(np.float64) - z[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    want = np.argsort(d, axis=1, kind="stable")[:, :7]
    got = nearest_neighbours(z, 7)
    assert got.dtype == np.int64 and got.shape == (300, 7)
    np.testing.assert_array_equal(got, want)
    assert not (got == np.arange(300)[:, None]).any()  # never a point itself


@pytest.mark.parametrize("block", [1, 7, 299, 1000])
def test_any_block_gives_the_same_neighbours(block):
    z = np.random.default_rng(1).standard_normal((300, 4)).astype(np.float32)
    np.testing.assert_array_equal(nearest_neighbours(z, 5, block=block),
                                  nearest_neighbours(z, 5))


def test_equal_distances_are_ordered_by_index():
    z = np.array([[0.0], [1.0], [-1.0], [2.0], [-2.0]])
    assert nearest_neighbours(z, 4)[0].tolist() == [1, 2, 3, 4]


@pytest.mark.parametrize("k, match", [(0, "k"), (5, "below"), (2.0, "k"), (True, "k")])
def test_bad_k_is_refused(k, match):
    with pytest.raises(ValueError, match=match):
        nearest_neighbours(np.zeros((5, 2)), k)


def test_z_must_be_two_dimensional():
    with pytest.raises(ValueError, match="2-D"):
        nearest_neighbours(np.zeros(5), 1)

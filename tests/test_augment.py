"""Random shifts of image rows (dec_np.augment) and their use in fine-tuning."""
import numpy as np
import pytest

from dec_np import StackedAutoencoder
from dec_np.augment import random_rotate, random_shift, shifter
from dec_np.backend import asnumpy
from dec_np.schedules import END_TO_END, SCHEDULES, run_schedule


def _shift_loop(img, dy, dx):
    """The definition, pixel by pixel: out[r, c] = img[r - dy, c - dx] where it exists."""
    H, W = img.shape
    out = np.zeros_like(img)
    for r in range(H):
        for c in range(W):
            if 0 <= r - dy < H and 0 <= c - dx < W:
                out[r, c] = img[r - dy, c - dx]
    return out


def test_random_shift_matches_the_definition():
    rng = np.random.default_rng(3)
    X = rng.random((50, 5 * 7)).astype(np.float32)
    offsets = np.random.default_rng(11).integers(-2, 3, size=(50, 2))
    out = random_shift(X, (5, 7), 2, np.random.default_rng(11))
    assert out.shape == X.shape and out.dtype == X.dtype
    for x, o, (dy, dx) in zip(X, out, offsets):
        np.testing.assert_array_equal(o.reshape(5, 7), _shift_loop(x.reshape(5, 7), dy, dx))
    # some images moved, and the offsets cover the range
    assert (out != X).any(axis=1).sum() > 30
    assert set(offsets.ravel()) == {-2, -1, 0, 1, 2}


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_random_rotate_matches_scipy(dtype, tol):
    ndimage = pytest.importorskip("scipy.ndimage")
    X = np.random.default_rng(3).random((40, 5 * 7)).astype(dtype)
    angles = np.random.default_rng(8).uniform(-170, 170, size=40)
    out = random_rotate(X, (5, 7), 170, np.random.default_rng(8))
    assert out.shape == X.shape and out.dtype == X.dtype
    for x, o, a in zip(X, out, angles):
        ref = ndimage.rotate(x.reshape(5, 7).astype(np.float64), a, reshape=False, order=1,
                             mode="grid-constant", cval=0.0)
        np.testing.assert_allclose(o.reshape(5, 7), ref, atol=tol)


def test_random_rotate_quarter_turn_and_small_angles():
    img = np.random.default_rng(0).random((6, 6))

    class Fixed:  # a generator that draws the angles it is given
        def __init__(self, a):
            self.a = np.asarray(a, dtype=float)

        def uniform(self, low, high, size):
            return self.a[:size]

    out = random_rotate(img.reshape(1, 36), (6, 6), 90, Fixed([90.0]))
    np.testing.assert_allclose(out.reshape(6, 6), np.rot90(img), atol=1e-12)
    out = random_rotate(img.reshape(1, 36), (6, 6), 90, Fixed([-90.0]))
    np.testing.assert_allclose(out.reshape(6, 6), np.rot90(img, -1), atol=1e-12)
    # a turn of a fraction of a degree moves every pixel by a fraction of a pixel
    out = random_rotate(img.reshape(1, 36), (6, 6), 0.5, Fixed([0.5]))
    assert 0 < np.abs(out.reshape(6, 6) - img)[1:-1, 1:-1].max() < 0.1


def test_shifter_rotates_then_shifts():
    X = np.random.default_rng(1).random((30, 64)).astype(np.float32)
    aug = shifter((8, 8), 0.25, rotate=12.0)
    assert (aug.max_shift, aug.max_degrees) == (2, 12.0)
    rng = np.random.default_rng(4)
    expect = random_shift(random_rotate(X, (8, 8), 12.0, rng), (8, 8), 2, rng)
    np.testing.assert_array_equal(aug(X, np.random.default_rng(4)), expect)
    # without rotate the generator draws the offsets alone, as before the parameter existed
    np.testing.assert_array_equal(shifter((8, 8), 0.25)(X, np.random.default_rng(4)),
                                  random_shift(X, (8, 8), 2, np.random.default_rng(4)))
    with pytest.raises(ValueError, match="rotate"):
        shifter((8, 8), 0.25, rotate=-1)
    with pytest.raises(ValueError, match="max_degrees"):
        random_rotate(X, (8, 8), 181, rng)
    assert random_rotate(X, (8, 8), 0, rng) is X
    # integer images turn into float64 ones (a bilinear mean is no integer)
    ints = (X * 255).astype(np.uint8)
    out = random_rotate(ints, (8, 8), 12.0, np.random.default_rng(2))
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, random_rotate(ints.astype(np.float64), (8, 8), 12.0,
                                                  np.random.default_rng(2)))


def test_random_shift_checks_its_arguments():
    X = np.zeros((2, 16))
    assert random_shift(X, (4, 4), 0, np.random.default_rng(0)) is X
    with pytest.raises(ValueError, match="not images"):
        random_shift(X, (3, 5), 1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="max_shift"):
        random_shift(X, (4, 4), -1, np.random.default_rng(0))
    assert shifter((28, 28), 0.1).max_shift == 3 and shifter((16, 16), 0.1).max_shift == 2
    with pytest.raises(ValueError, match="fraction"):
        shifter((28, 28), 2)


def test_finetune_trains_on_shifted_batches():
    """With augment the stack sees shifted images: other weights than without, same seed,
    and reproducible; a schedule's "augment" entry reaches fine-tuning when the image shape
    is known, and is ignored when it is not."""
    X = np.random.default_rng(0).random((64, 36)).astype(np.float32)

    def weights(augment):
        sae = StackedAutoencoder((36, 8, 4), **END_TO_END, random_state=0)
        sae.finetune(X, iterations=5, batch_size=16, lr=1e-3, optimizer="adam", augment=augment)
        return asnumpy(sae.encoders[0].params["W"])

    aug = shifter((6, 6), 0.2)
    w0, w1, w2 = weights(None), weights(aug), weights(aug)
    np.testing.assert_array_equal(w1, w2)
    assert not np.allclose(w0, w1)
    s = {**SCHEDULES["adam"], "finetune": dict(SCHEDULES["adam"]["finetune"], iterations=5,
                                               batch_size=16), "augment": {"shift": 0.2}}
    sae = run_schedule(StackedAutoencoder((36, 8, 4), **END_TO_END, random_state=0), X, s,
                       image_shape=(6, 6))
    np.testing.assert_array_equal(asnumpy(sae.encoders[0].params["W"]), w1)
    # without an image shape the rows are not images: trained as they are
    sae = run_schedule(StackedAutoencoder((36, 8, 4), **END_TO_END, random_state=0), X, s)
    np.testing.assert_array_equal(asnumpy(sae.encoders[0].params["W"]), w0)


def test_schedule_augment_entry():
    """A schedule's "augment" names the image shape when it is not square, and is checked."""
    from dec_np.schedules import get_schedule

    X = np.random.default_rng(0).random((32, 12)).astype(np.float32)
    s = {**SCHEDULES["adam"], "finetune": dict(SCHEDULES["adam"]["finetune"], iterations=2,
                                               batch_size=16),
         "augment": {"shift": 0.25, "image_shape": (3, 4)}}
    assert get_schedule(s)["augment"] == {"shift": 0.25, "image_shape": (3, 4)}
    run_schedule(StackedAutoencoder((12, 4), **END_TO_END, random_state=0), X, s)
    with pytest.raises(ValueError, match="not images"):
        run_schedule(StackedAutoencoder((12, 4), **END_TO_END, random_state=0), X,
                     dict(s, augment={"shift": 0.25, "image_shape": (4, 4)}))
    turned = dict(s, augment={"shift": 0.25, "rotate": 10.0, "image_shape": (3, 4)})
    assert get_schedule(turned)["augment"]["rotate"] == 10.0
    run_schedule(StackedAutoencoder((12, 4), **END_TO_END, random_state=0), X, turned)
    for bad in ({"shift": 0.1, "scale": 10}, {"image_shape": (3, 4)}, 0.1):
        with pytest.raises(ValueError, match="augment"):
            get_schedule(dict(s, augment=bad))


def test_dec_image_shape():
    """DEC(image_shape=...) is checked against X, round-trips through get_params/clone, and
    with "adam-shift" gives another embedding than "adam"; without it the two are equal."""
    from dec_np import DEC
    from sklearn.base import clone

    X = np.random.default_rng(0).random((60, 16)).astype(np.float32)
    s = {**SCHEDULES["adam-shift"],
         "finetune": dict(SCHEDULES["adam-shift"]["finetune"], iterations=3, batch_size=16)}
    fit = lambda **kw: DEC(3, hidden_dims=(8, 2), schedule=s, n_init=2, max_iter=2,
                           random_state=0, **kw).fit(X)
    plain, shifted = fit(), fit(image_shape=(4, 4))
    assert not np.allclose(plain.init_centers_, shifted.init_centers_)
    np.testing.assert_array_equal(plain.init_centers_, fit(image_shape=None).init_centers_)
    assert clone(shifted).get_params()["image_shape"] == (4, 4)
    assert "image_shape=(4, 4)" in repr(shifted)
    for bad in ((4, 5), (16,), (2, 8.0), "4x4"):
        with pytest.raises(ValueError, match="image_shape"):
            DEC(3, image_shape=bad).fit(X)


def test_random_mask_is_inverted_dropout_on_the_input():
    from dec_np.augment import augmenter, masker, random_mask

    X = np.random.default_rng(0).random((400, 50)).astype(np.float32) + 0.5
    out = random_mask(X, 0.3, np.random.default_rng(1))
    u = np.random.default_rng(1).random(X.shape, dtype=np.float32)
    np.testing.assert_array_equal(out, np.where(u >= 0.3, X * np.float32(1 / 0.7), 0))
    assert out.dtype == np.float32 and abs((out == 0).mean() - 0.3) < 0.02
    assert abs(out.mean() / X.mean() - 1) < 0.02  # each value keeps its expectation
    assert random_mask(X, 0.0, None) is X
    with pytest.raises(ValueError, match="probability"):
        random_mask(X, 1.0, np.random.default_rng(0))
    for bad in (0, 1, -0.1, True):
        with pytest.raises(ValueError, match="probability"):
            masker(bad)
    f = augmenter({"mask": 0.3})
    np.testing.assert_array_equal(f(X, np.random.default_rng(1)), out)
    assert augmenter({"shift": 0.1, "rotate": 5}, (28, 28)).max_degrees == 5
    with pytest.raises(ValueError, match="shape"):
        augmenter({"shift": 0.1})

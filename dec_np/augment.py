"""Random translations of image rows: the data augmentation an autoencoder can train on.

An optional extension of the paper (which trains on the images as they are): each
mini-batch of the reconstruction stage is shifted by a few pixels, image by image, and the
autoencoder learns to reconstruct the shifted image from itself, which is meant to make its
embedding depend less on where in the frame a digit sits.  The clustering phase sees them
only with ``DEC(augment=...)``: there the encoder learns from shifted mini-batches while the
target P, the labels and the stopping test come from the clean images (Guo et al., ACML 2018).
"""
from __future__ import annotations

from .backend import get_array_module


def random_shift(X, image_shape, max_shift, rng):
    """Translate each image by its own random whole-pixel offset, filling with zeros.

    Row i is read as an image of ``image_shape`` (H, W) and moved by (dy_i, dx_i), each
    drawn uniformly from {-max_shift, ..., max_shift}: out[i, r, c] = x[i, r - dy_i, c - dx_i]
    where that pixel exists, 0 elsewhere.

    Parameters
    ----------
    X : array of shape (n, H * W)
        Images as rows, on the host or the device.
    image_shape : tuple of int
        (H, W).
    max_shift : int
        The largest offset along either axis, in pixels (0 returns X itself).
    rng : numpy.random.Generator
        Draws the offsets on the host, so a seed gives the same offsets on every backend.

    Returns
    -------
    array of shape (n, H * W), X's dtype and device.
        The shifted images, zeros where no pixel came in.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(9.0).reshape(1, 9)
    >>> y = random_shift(x, (3, 3), 1, np.random.default_rng(0))
    >>> y.shape, set(y.ravel()) <= set(x.ravel())
    ((1, 9), True)
    """
    xp = get_array_module(X)
    H, W = (int(s) for s in image_shape)
    n, s = X.shape[0], int(max_shift)
    if H * W != X.shape[1]:
        raise ValueError(f"rows of {X.shape[1]} values are not images of shape {(H, W)}")
    if s < 0:
        raise ValueError(f"max_shift must be >= 0, got {max_shift!r}")
    if s == 0:
        return X
    offsets = xp.asarray(rng.integers(-s, s + 1, size=(n, 2)))  # (dy, dx) per image
    padded = xp.zeros((n, H + 2 * s, W + 2 * s), dtype=X.dtype)
    padded[:, s:s + H, s:s + W] = X.reshape(n, H, W)
    rows = (s - offsets[:, :1] + xp.arange(H)[None, :])[:, :, None]  # (n, H, 1)
    cols = (s - offsets[:, 1:] + xp.arange(W)[None, :])[:, None, :]  # (n, 1, W)
    out = padded[xp.arange(n)[:, None, None], rows, cols]
    return out.reshape(n, H * W)


def shifter(image_shape, shift):
    """The ``augment(xb, rng)`` callable that :meth:`StackedAutoencoder.finetune` takes.

    Parameters
    ----------
    image_shape : tuple of int
        (H, W) of the images the rows hold.
    shift : float
        The largest offset as a fraction of the image's shorter side, in (0, 0.5): 0.1 on
        a 28 x 28 image is up to 3 pixels; rounded to the nearest whole pixel, at least 1.

    Returns
    -------
    callable
        ``augment(xb, rng)``: :func:`random_shift` of the batch ``xb`` (n, H * W) with
        offsets drawn from ``rng``; its attribute ``max_shift`` is the offset in pixels.

    Examples
    --------
    >>> shifter((28, 28), 0.1).max_shift
    3
    """
    H, W = image_shape
    if not 0 < shift < 0.5:
        raise ValueError(f"shift is a fraction of the image side in (0, 0.5), got {shift!r}")
    pixels = max(1, int(shift * min(H, W) + 0.5))

    def augment(xb, rng):
        return random_shift(xb, (H, W), pixels, rng)

    augment.max_shift = pixels
    return augment

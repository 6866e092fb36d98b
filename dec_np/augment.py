"""Random translations (and rotations) of image rows, and masking noise or neighbours for any rows.

An optional extension of the paper (which trains on the images as they are): each
mini-batch of the reconstruction stage is shifted by a few pixels, image by image, and the
autoencoder learns to reconstruct the shifted image from itself, which is meant to make its
embedding depend less on where in the frame a digit sits.  The clustering phase sees them
only with ``DEC(augment=...)``: there the encoder learns from shifted mini-batches while the
target P, the labels and the stopping test come from the clean images (Guo et al., ACML 2018).
Either phase may also turn each image by a few degrees first (:func:`random_rotate`).
Rows that are not images can be masked instead (:func:`random_mask`): the input dropout of
the paper's denoising autoencoders, which ``DEC`` applies in its clustering phase, or swapped
for one of their nearest neighbours in the embedding (:func:`neighbour_rows`).
"""
from __future__ import annotations

import math

import numpy as np

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


def random_rotate(X, image_shape, max_degrees, rng):
    """Rotate each image about its centre by its own random angle, bilinear, filling with zeros.

    Row i is read as an image of ``image_shape`` (H, W) and turned by an angle a_i drawn
    uniformly from [-max_degrees, max_degrees].  With the centre (c_r, c_c) = ((H - 1) / 2,
    (W - 1) / 2), output pixel (r, c) reads the input at

        r' = c_r + cos(a) (r - c_r) + sin(a) (c - c_c),
        c' = c_c - sin(a) (r - c_r) + cos(a) (c - c_c),

    interpolated bilinearly between its four neighbours, pixels outside the image counting
    as 0: what ``scipy.ndimage.rotate(img, a, reshape=False, order=1, mode="grid-constant")``
    computes.

    Parameters
    ----------
    X : array of shape (n, H * W)
        Images as rows, on the host or the device.
    image_shape : tuple of int
        (H, W).
    max_degrees : float
        The largest angle either way, in degrees, in [0, 180] (0 returns X itself).
    rng : numpy.random.Generator
        Draws the angles on the host, so a seed gives the same angles on every backend.

    Returns
    -------
    array of shape (n, H * W), X's device
        The rotated images; X's dtype when it is a float type, else float64.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.zeros((1, 9)); x[0, 1] = 1.0  # the top middle pixel of a 3 x 3 image
    >>> y = random_rotate(x, (3, 3), 0, np.random.default_rng(0))
    >>> y is x
    True
    """
    xp = get_array_module(X)
    H, W = (int(s) for s in image_shape)
    n = X.shape[0]
    if H * W != X.shape[1]:
        raise ValueError(f"rows of {X.shape[1]} values are not images of shape {(H, W)}")
    if not 0 <= max_degrees <= 180:
        raise ValueError(f"max_degrees must be in [0, 180], got {max_degrees!r}")
    if max_degrees == 0:
        return X
    a = xp.asarray(rng.uniform(-max_degrees, max_degrees, size=n) * (math.pi / 180.0))
    cos, sin = xp.cos(a)[:, None, None], xp.sin(a)[:, None, None]  # (n, 1, 1), float64
    dr = (xp.arange(H, dtype=xp.float64) - (H - 1) / 2.0)[None, :, None]  # (1, H, 1)
    dc = (xp.arange(W, dtype=xp.float64) - (W - 1) / 2.0)[None, None, :]  # (1, 1, W)
    src_r = (H - 1) / 2.0 + cos * dr + sin * dc  # (n, H, W)
    src_c = (W - 1) / 2.0 - sin * dr + cos * dc
    r0, c0 = xp.floor(src_r), xp.floor(src_c)
    dtype = X.dtype if X.dtype.kind == "f" else xp.float64  # integer images: float64 out
    wr, wc = (src_r - r0).astype(dtype), (src_c - c0).astype(dtype)
    # two rings of zeros around each image: a corner (r0 or r0 + 1, c0 or c0 + 1) outside
    # the image reads 0 once r0 and c0 are clipped to [-2, H] and [-2, W]
    P = W + 4
    padded = xp.zeros((n, H + 4, P), dtype=dtype)
    padded[:, 2:H + 2, 2:W + 2] = X.reshape(n, H, W)
    flat = padded.reshape(-1)
    xp.clip(r0, -2, H, out=r0)
    xp.clip(c0, -2, W, out=c0)
    k = r0.astype(xp.int64)  # (n, H, W): the flat index of the top-left corner
    k += 2
    k *= P
    k += c0.astype(xp.int64)
    k += (xp.arange(n, dtype=xp.int64) * ((H + 4) * P) + 2)[:, None, None]
    # the four corners read through views of `flat` shifted by 1, P and P + 1 (one index
    # array for all four reads)
    top = (1 - wc) * xp.take(flat, k) + wc * xp.take(flat[1:], k)
    bottom = (1 - wc) * xp.take(flat[P:], k) + wc * xp.take(flat[P + 1:], k)
    out = (1 - wr) * top + wr * bottom
    return out.reshape(n, H * W)


def shifter(image_shape, shift, rotate=0.0):
    """The ``augment(xb, rng)`` callable that :meth:`StackedAutoencoder.finetune` takes.

    Parameters
    ----------
    image_shape : tuple of int
        (H, W) of the images the rows hold.
    shift : float
        The largest offset as a fraction of the image's shorter side, in (0, 0.5): 0.1 on
        a 28 x 28 image is up to 3 pixels; rounded to the nearest whole pixel, at least 1.
    rotate : float, default 0.0
        The largest rotation either way, in degrees, in [0, 180]; 0: no rotation (and
        ``rng`` draws the offsets alone, as without this parameter).

    Returns
    -------
    callable
        ``augment(xb, rng)``: the batch ``xb`` (n, H * W) rotated by :func:`random_rotate`
        (angles drawn from ``rng`` first) when ``rotate`` > 0, then shifted by
        :func:`random_shift` (offsets drawn next); its attributes ``max_shift`` (pixels)
        and ``max_degrees`` say how far.

    Examples
    --------
    >>> shifter((28, 28), 0.1).max_shift
    3
    """
    H, W = image_shape
    if not 0 < shift < 0.5:
        raise ValueError(f"shift is a fraction of the image side in (0, 0.5), got {shift!r}")
    if isinstance(rotate, bool) or not 0 <= rotate <= 180:
        raise ValueError(f"rotate is the largest angle in degrees, in [0, 180], got {rotate!r}")
    pixels = max(1, int(shift * min(H, W) + 0.5))
    degrees = float(rotate)

    def augment(xb, rng):
        if degrees > 0:
            xb = random_rotate(xb, (H, W), degrees, rng)
        return random_shift(xb, (H, W), pixels, rng)

    augment.max_shift = pixels
    augment.max_degrees = degrees
    return augment


def random_mask(X, p, rng):
    """Masking noise: zero each value with probability ``p``, scale the others by 1 / (1 - p).

    ``out = X * m / (1 - p)`` with ``m_ij = 1`` where ``u_ij >= p`` for ``u_ij`` drawn
    uniformly from [0, 1), else 0: the inverted dropout of :class:`dec_np.layers.Dropout`
    applied to the input, so each value keeps its expectation.

    Parameters
    ----------
    X : array of shape (n, d), float
        Rows of any kind, on the host or the device.
    p : float
        The probability of zeroing a value, in [0, 1) (0 returns X itself).
    rng : numpy.random.Generator
        Draws ``u`` on the host, in float32, so a seed gives the same masks on every
        backend.

    Returns
    -------
    array of shape (n, d), X's dtype and device
        The masked rows.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.ones((2, 5), dtype=np.float32)
    >>> y = random_mask(x, 0.5, np.random.default_rng(0))
    >>> sorted(set(y.ravel().tolist())) <= [0.0, 2.0]
    True
    """
    xp = get_array_module(X)
    if not 0 <= p < 1:
        raise ValueError(f"p is a probability in [0, 1), got {p!r}")
    if p == 0:
        return X
    keep = xp.asarray(rng.random(X.shape, dtype=np.float32) >= p)
    return X * keep * X.dtype.type(1.0 / (1.0 - p))


def masker(p):
    """The ``augment(xb, rng)`` callable of :func:`random_mask`.

    Parameters
    ----------
    p : float
        The probability of zeroing each value, in (0, 1).

    Returns
    -------
    callable
        ``augment(xb, rng)``: the batch with masking noise; its attribute ``p`` says how
        much.

    Examples
    --------
    >>> masker(0.2).p
    0.2
    """
    if isinstance(p, bool) or not 0 < p < 1:
        raise ValueError(f"p is a probability in (0, 1), got {p!r}")
    rate = float(p)

    def augment(xb, rng):
        return random_mask(xb, rate, rng)

    augment.p = rate
    return augment


def neighbour_rows(idx, neighbours, rng):
    """The rows a batch trains on in place of its own: for each, one of its neighbours at random.

    ``out_b = neighbours[idx_b, c_b]`` with ``c_b`` drawn uniformly from {0, ..., k - 1}:
    the clustering phase's encoder then learns to give row ``out_b`` the target of row
    ``idx_b`` (``DEC(augment={"neighbours": k})``).

    Parameters
    ----------
    idx : array of shape (b,), int
        The batch's row indices, on the host or the device.
    neighbours : array of shape (n, k), int
        Each row's k nearest neighbours (:func:`dec_np.neighbours.nearest_neighbours`), on
        idx's device.
    rng : numpy.random.Generator
        Draws ``c`` on the host, so a seed gives the same rows on every backend.

    Returns
    -------
    array of shape (b,), int, on idx's device
        The indices of the rows to train on.

    Examples
    --------
    >>> import numpy as np
    >>> nbr = np.array([[1, 2], [0, 2], [1, 0]])
    >>> out = neighbour_rows(np.array([0, 2]), nbr, np.random.default_rng(0))
    >>> out[0] in (1, 2), out[1] in (1, 0)
    (True, True)
    """
    xp = get_array_module(neighbours)
    pick = xp.asarray(rng.integers(neighbours.shape[1], size=len(idx)))
    return neighbours[idx, pick]


def augmenter(augment, image_shape=None):
    """The callable of a clustering-phase setting: :func:`masker` or :func:`shifter`.

    Parameters
    ----------
    augment : dict
        ``{"mask": p}`` for any rows, or ``{"shift": fraction}`` with an optional
        ``"rotate": degrees`` for images.
    image_shape : tuple of int or None
        (H, W); needed for shifts.

    Returns
    -------
    callable
        ``augment(xb, rng)``.

    Examples
    --------
    >>> augmenter({"mask": 0.2}).p, augmenter({"shift": 0.1}, (28, 28)).max_shift
    (0.2, 3)
    """
    if "mask" in augment:
        return masker(augment["mask"])
    if image_shape is None:
        raise ValueError("shifts need the images' shape (H, W)")
    return shifter(tuple(image_shape), **augment)

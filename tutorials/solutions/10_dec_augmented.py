"""Reference solution of tutorial 10 (DEC with augmentation): a clustering step, batch shifted."""
import numpy as np

from dec_np.dec_math import kl_gradients, soft_assignment


def augmented_dec_step(encoder, xb, pb, params, grads, opt, shift, rng, alpha=1.0):
    """Shift the batch, then tutorial 07's step: q, the batch-mean KL's gradients, backprop."""
    xt = shift(xb, rng)                              # the encoder learns from shifted images
    zb = encoder.forward(xt, train=True)             # (B, d_z) at the shifted points
    qb = soft_assignment(zb, params["mu"], alpha)    # Eq. 1 on the shifted batch
    dz, dmu = kl_gradients(zb, params["mu"], pb, qb, alpha)  # Eq. 4, 5; pb: the CLEAN target
    inv = xb.dtype.type(1.0 / xb.shape[0])           # 1/B: the gradient of the batch mean
    encoder.backward(dz * inv, need_dx=False)        # fills grads["enc*"] in place
    grads["mu"] = dmu * inv
    opt.step(params, grads)                          # theta and mu in one step


def rotate_bilinear(img, degrees):
    """Each output pixel reads its source point, bilinear between four neighbours."""
    H, W = img.shape
    a = np.deg2rad(degrees)
    cr, cc = (H - 1) / 2.0, (W - 1) / 2.0
    out = np.zeros_like(img)
    for r in range(H):
        for c in range(W):
            sr = cr + np.cos(a) * (r - cr) + np.sin(a) * (c - cc)  # the output grid turned back
            sc = cc - np.sin(a) * (r - cr) + np.cos(a) * (c - cc)
            r0, c0 = int(np.floor(sr)), int(np.floor(sc))
            t, u = sr - r0, sc - c0
            for dr, dc, w in ((0, 0, (1 - t) * (1 - u)), (0, 1, (1 - t) * u),
                              (1, 0, t * (1 - u)), (1, 1, t * u)):
                if 0 <= r0 + dr < H and 0 <= c0 + dc < W:  # outside the image: 0
                    out[r, c] += w * img[r0 + dr, c0 + dc]
    return out


def nearest_neighbours_by_hand(z, k):
    """Every squared distance, the point itself at infinity, the k smallest by a stable sort."""
    n = len(z)
    out = np.empty((n, k), dtype=np.int64)
    for i in range(n):
        d = ((z - z[i]) ** 2).sum(axis=1)
        d[i] = np.inf  # not its own neighbour
        out[i] = np.argsort(d, kind="stable")[:k]
    return out

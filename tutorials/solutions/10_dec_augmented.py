"""Reference solution of tutorial 10 (DEC with augmentation): a clustering step, batch shifted."""
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

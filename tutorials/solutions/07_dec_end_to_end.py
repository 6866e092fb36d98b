"""Reference solution of tutorial 07 (DEC end to end): one mini-batch step of the clustering phase."""
from dec_np.dec_math import kl_gradients, soft_assignment


def dec_step(encoder, xb, pb, params, grads, opt, alpha=1.0):
    """q of the batch, the gradients of the batch-mean KL loss, backprop into theta, one SGD step."""
    zb = encoder.forward(xb, train=True)             # (B, d_z); the layers cache their inputs
    qb = soft_assignment(zb, params["mu"], alpha)    # Eq. 1 on the batch
    dz, dmu = kl_gradients(zb, params["mu"], pb, qb, alpha)  # Eq. 4, 5: of the batch's sum
    inv = xb.dtype.type(1.0 / xb.shape[0])           # 1/B: the gradient of the batch mean
    encoder.backward(dz * inv, need_dx=False)        # fills grads["enc*"] in place
    grads["mu"] = dmu * inv
    opt.step(params, grads)                          # theta and mu in one step

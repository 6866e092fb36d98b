# %% [markdown]
# # 02 · Dropout, the reconstruction loss, and a denoising autoencoder
#
# **What you will be able to do.** Sec. 3.2 of the paper pretrains each layer as a
# *denoising* autoencoder (Vincent et al., 2010):
#
#     x~ = Dropout(x),   h = g1(W1 x~ + b1),   h~ = Dropout(h),   y = g2(W2 h~ + b2)
#
# trained to minimise the squared reconstruction error `||x - y||_2^2`, with dropout (rate
# 20%) as the corruption.  You write inverted dropout, forward and backward, and the
# reconstruction loss with its gradient (three exercises), check them, and then train a
# one-layer denoising autoencoder with and without dropout to see what the corruption
# costs and what it buys.
#
# **Data.** Fast mode (`DEC_NP_FAST=1`, what the test suite runs): 1,500 of the embedded
# 8x8 UCI digits.  Full mode: the 10,000 MNIST test images (28x28) when they are under
# `DEC_NP_DATA`, else all 1,797 digits.
#
# Exercises work as in tutorial 01: fill in the code between `YOUR CODE HERE` and
# `END OF YOUR CODE`; each `check` prints `[PASS]`, `[FAIL]` or `[TODO]`; the lesson itself
# uses the package's layers and runs to the end regardless.  Solutions:
# `tutorials/solutions/02_dropout_denoising.py`.
#
# Run it: `python tutorials/02_dropout_denoising.py` (`DEC_NP_FAST=1` for the small run).

# %%
import numpy as np
from _common import FAST, check, claim, exercise, load_data, show, start, summary

from dec_np import StackedAutoencoder
from dec_np.gradcheck import numerical_gradient, rel_error
from dec_np.layers import Dropout, ReLU, Sequential
from dec_np.losses import mse
from dec_np.optim import SGD
from dec_np.plotting import plot_loss_history, plot_reconstructions

start("02_dropout_denoising")
X, y, image_shape, name = load_data(1500 if FAST else None, prefer_mnist=not FAST)
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. Inverted dropout, forward
#
# In training, each unit is zeroed with probability `p_drop` (p for short) and the
# survivors are scaled by `1 / (1 - p)`.  With `u[n, j]` uniform on [0, 1), the mask is
#
#     m[n, j] = 1[u[n, j] >= p] / (1 - p),        out[n, j] = x[n, j] m[n, j]
#
# Its expectation is `E[m] = P(u >= p) / (1 - p) = (1 - p) / (1 - p) = 1`, so
# `E[out] = x`: on average the layer above sees what it will see at inference, where
# dropout is the identity.  (The other convention scales by (1 - p) at test time instead,
# which would make inference depend on the training rate.)
#
# **Exercise 1.** Write `dropout_forward`.  Draw `u = rng.random(x.shape)` exactly once;
# the check hands your function and the package's `Dropout` generators in the same state,
# so with the convention above your mask must be the package's, bit for bit.

# %%
@exercise
def dropout_forward(x, p_drop, rng):
    """Inverted dropout in training mode.

    Parameters
    ----------
    x : ndarray of shape (N, d)
    p_drop : float in [0, 1), the probability of zeroing a unit
    rng : numpy Generator; draw ``u = rng.random(x.shape)`` once

    Returns
    -------
    out : (N, d), out = x * mask
    mask : (N, d), mask[n, j] = (u[n, j] >= p_drop) / (1 - p_drop)  (the backward pass needs it)
    """
    # YOUR CODE HERE (three lines)
    raise NotImplementedError("dropout_forward: draw u, build the mask, apply it")
    # END OF YOUR CODE


xd = rng.standard_normal((8, 5))
ref = Dropout(0.3)
ref.rng = np.random.default_rng(7)  # the package draws its mask with ref.rng.random(x.shape)
ref_out = ref.forward(xd, train=True)
check("dropout_forward: out, mask", lambda: dropout_forward(xd, 0.3, np.random.default_rng(7)),
      (ref_out, ref.cache), against="dec_np.layers.Dropout", names=("out", "mask"))

# %% [markdown]
# What the package's `Dropout(p_drop=0.2)` does to a large array of ones:

# %%
drop = Dropout(p_drop=0.2, random_state=0)
ones = np.ones((1000, 50))
out = drop.forward(ones, train=True)
zeroed, kept = float(np.mean(out == 0)), np.unique(out[out > 0])
print(f"fraction zeroed {zeroed:.4f} (p_drop = 0.2); kept values {kept}; "
      f"mean output {out.mean():.4f}")
claim("About a fifth of the units are zeroed (within 0.01 of 0.2), the survivors are 1/0.8 = 1.25 "
      "and the mean output is within 0.01 of 1.", abs(zeroed - 0.2) < 0.01
      and np.allclose(kept, 1.25) and abs(out.mean() - 1) < 0.01,
      zeroed=zeroed, mean=float(out.mean()))
claim("At inference (train=False) dropout is the identity.",
      np.array_equal(drop.forward(ones, train=False), ones))

# %% [markdown]
# ## 2. Dropout, backward: the same mask
#
# With the mask fixed, `out[n, j] = x[n, j] m[n, j]` is linear in `x` and each output
# element depends on one input element, so the chain rule has one term:
#
#     dx[n, j] = dout[n, j] * d out[n, j] / d x[n, j] = dout[n, j] m[n, j]
#
# The backward pass must reuse the mask of *its* forward pass (a freshly drawn one would
# be the gradient of a different function).  A finite-difference check calls the forward
# pass many times, so it needs the mask frozen: `Dropout.freeze_mask = True` makes later
# forward passes reuse the last one.
#
# **Exercise 2.** Write `dropout_backward`.  L is linear in x, so the check should agree
# to a relative error **below 1e-8**.

# %%
@exercise
def dropout_backward(dout, mask):
    """Backward pass of inverted dropout.

    Parameters
    ----------
    dout : ndarray of shape (N, d), dL/dout
    mask : ndarray of shape (N, d), the mask of the forward pass (0 or 1/(1-p_drop))

    Returns
    -------
    dx : (N, d), dx[n, j] = dout[n, j] * mask[n, j]
    """
    # YOUR CODE HERE (one line)
    raise NotImplementedError("dropout_backward: reuse the forward pass's mask")
    # END OF YOUR CODE


frozen = Dropout(0.5, random_state=1)
frozen.freeze_mask = True
xb = rng.standard_normal((4, 6))
dout_b = rng.standard_normal(xb.shape)
frozen.forward(xb, train=True)
mask_b = frozen.cache.copy()
num_dxb = numerical_gradient(lambda _: (frozen.forward(xb, train=True) * dout_b).sum(), xb)
check("dropout_backward: dx", lambda: {"dx": dropout_backward(dout_b, mask_b)}, {"dx": num_dxb},
      against="centred finite differences with the mask frozen")
pkg_err = rel_error(frozen.backward(dout_b), num_dxb)
claim("The package's Dropout.backward agrees with finite differences (frozen mask) to below 1e-8.",
      pkg_err < 1e-8, rel_error=pkg_err)

# %% [markdown]
# ## 3. The reconstruction loss and its gradient
#
# The paper writes `||x - y||_2^2`.  The code (`dec_np.losses.mse`) computes, for a batch
# of N reconstructions `x_hat` (the paper's y) of N inputs x with d features each,
#
#     reduction "batch" (the default):  L = 1/(2N)  sum_n sum_j (x_hat[n, j] - x[n, j])^2
#     reduction "mean":                 L = 1/(2Nd) sum_n sum_j (x_hat[n, j] - x[n, j])^2
#
# The 0.5 and the 1/N only rescale the paper's loss: the minimiser is the same, and a
# constant factor c in the loss is a factor c in every gradient, i.e. in the learning rate.
# "batch" is Caffe's stock EuclideanLoss (half the squared error summed over features,
# averaged over the batch); "mean" also averages over the d features, as the DEC authors'
# Caffe build did, and that is the unit the paper's learning rate 0.1 is quoted in.
#
# The gradient, element by element: only the term (n, j) of the double sum contains
# `x_hat[n, j]`, and `d/du (u - x)^2 = 2 (u - x)`, so the 2 cancels the 0.5:
#
#     dL/dx_hat[n, j] = (x_hat[n, j] - x[n, j]) / N          ("batch")
#     dL/dx_hat[n, j] = (x_hat[n, j] - x[n, j]) / (N d)      ("mean")
#
# The same learning rate is therefore a step d times larger with "batch" than with "mean"
# (d = 64 for the digits, 784 for MNIST); tutorial 03 comes back to this.
#
# **Exercise 3.** Write `mse_loss` for both reductions.  The loss is compared with the
# package's `mse`, the gradient with finite differences of it; L is quadratic, so the
# centred difference has no truncation error and the check should agree **below 1e-8**.

# %%
@exercise
def mse_loss(x_hat, x, reduction="batch"):
    """Half the squared reconstruction error and its gradient.

    Parameters
    ----------
    x_hat, x : ndarray of shape (N, d)
    reduction : "batch" (divide by N) or "mean" (divide by N * d)

    Returns
    -------
    loss : float, 0.5 * sum((x_hat - x)^2) / count, count = N or N * d
    dx_hat : (N, d), (x_hat - x) / count
    """
    # YOUR CODE HERE (about four lines)
    raise NotImplementedError("mse_loss: the loss and its gradient")
    # END OF YOUR CODE


xh, xt = rng.standard_normal((5, 7)), rng.standard_normal((5, 7))
for reduction in ("batch", "mean"):
    f = lambda _, r=reduction: mse(xh, xt, r)[0]  # noqa: E731
    expected = (float(mse(xh, xt, reduction)[0]), numerical_gradient(f, xh))
    check(f"mse_loss ({reduction}): loss, dx_hat", lambda r=reduction: mse_loss(xh, xt, r),
          expected, against="dec_np.losses.mse and finite differences of it",
          names=("loss", "dx_hat"))
xa, xc = X[:8], X[:8] + 1  # any pair of batches of this data's width d
ratio = float(np.median(mse(xa, xc, "batch")[1] / mse(xa, xc, "mean")[1]))
print(f"d = {X.shape[1]}: gradient ratio batch / mean = {ratio:g}")
claim('On this data the gradient with reduction "batch" is d times that with "mean".',
      abs(ratio - X.shape[1]) < 1e-3, ratio=ratio, d=X.shape[1])

# %% [markdown]
# ## 4. A denoising autoencoder of one layer, trained by hand
#
# We now train the smallest denoising autoencoder: d -> 64 -> d, dropout on the 64-unit
# code.  Two pieces come from later tutorials, so here is what they do:
#
# - `StackedAutoencoder(dims).layer_pair(0)` (tutorial 04's subject) returns the paper's
#   depth-0 pair as a `Sequential`: `Dense(d, 64), ReLU, Dropout(p_drop), Dense(64, d)`.
#   As in the authors' code, raw pixels are not dropped at depth 0, only the hidden code.
# - `SGD(lr, momentum=0.9)` (tutorial 03's subject) updates every parameter in place;
#   here it is enough to know that `opt.step(params, grads)` moves each weight a small step
#   against its gradient (plus a running average of its past steps).
#
# The loop is the whole algorithm: forward with dropout on, loss, backward, step.
# We train with `p_drop = 0` and `p_drop = 0.2` from the same initial weights and the same
# batches, on 80% of the images, and keep the other 20% for evaluation.

# %%
Xtr, Xte = X[: int(0.8 * len(X))], X[int(0.8 * len(X)):]
d, hidden = X.shape[1], 64
print("layer_pair(0):", [type(l).__name__ for l in StackedAutoencoder((d, hidden, 10)).layer_pair(0).layers])


def train_pair(p_drop, epochs, batch_size=64, lr=0.01):
    """Train depth 0 of a (d, 64, 10) stack as a denoising autoencoder; return the
    stack and the mean training loss of each epoch."""
    sae = StackedAutoencoder((d, hidden, 10), p_drop=p_drop, random_state=0)
    net = sae.layer_pair(0)  # Dense, ReLU, Dropout, Dense
    layers = {"enc": sae.encoders[0], "dec": sae.decoders[0]}
    params = {f"{n}.{k}": v for n, l in layers.items() for k, v in l.params.items()}
    grads = {f"{n}.{k}": v for n, l in layers.items() for k, v in l.grads.items()}
    opt, order, history = SGD(lr, momentum=0.9), np.random.default_rng(0), []
    for _ in range(epochs):
        perm, total = order.permutation(len(Xtr)), 0.0
        for s in range(0, len(Xtr), batch_size):
            xb = Xtr[perm[s:s + batch_size]]
            loss, dout = mse(net.forward(xb, train=True), xb)  # dropout on
            net.backward(dout, need_dx=False)  # fills the grads the optimiser reads
            opt.step(params, grads)
            total += float(loss) * len(xb)
        history.append(total / len(Xtr))
    return sae, history


def pair(sae, p_code=0.0):
    """The trained pair x -> h -> x_hat, its code dropped at rate p_code (0: no dropout)."""
    return Sequential(sae.encoders[0], ReLU(), Dropout(p_code, random_state=1), sae.decoders[0])


def held_out_loss(sae, p_code):
    """Loss on the held-out images, the code dropped at rate p_code (0: clean)."""
    return float(mse(pair(sae, p_code).forward(Xte, train=p_code > 0), Xte)[0])


epochs = 15 if FAST else 40
saes, losses, clean, corrupt = {}, {}, {}, {}
for p in (0.0, 0.2):
    saes[p], losses[f"p_drop = {p}"] = train_pair(p, epochs)
    clean[p], corrupt[p] = held_out_loss(saes[p], 0.0), held_out_loss(saes[p], 0.2)
    print(f"p_drop {p}: last training loss {losses[f'p_drop = {p}'][-1]:.4f}, "
          f"held-out loss clean {clean[p]:.4f}, held-out loss with the code dropped at 0.2 "
          f"{corrupt[p]:.4f}")
show(plot_loss_history(losses, None, title="Depth-0 denoising pair: training loss (dropout on)"),
     "02_dae_loss.png")

# %% [markdown]
# Three things to read off these numbers (the run prints each below).
#
# 1. The training loss is higher with dropout: the network is scored on reconstructions
#    from corrupted codes.
# 2. On clean held-out images (dropout off) the pair trained *without* dropout
#    reconstructs better.  Corruption is not free: it is a regulariser, and with a 64-unit
#    code trained for a few epochs there is no overfitting for it to cure.
# 3. What dropout buys is robustness: knock out a fifth of the code at test time and the
#    pair trained without dropout falls apart, while the denoising pair hardly notices,
#    because each of its units had to be useful without the others.  In the layer-wise
#    scheme the next depth is trained on these codes, which is the property it needs.

# %%
print(f"clean held-out loss: {clean[0.2]:.3f} with dropout against {clean[0.0]:.3f} without; "
      f"with a fifth of the code dropped: {corrupt[0.2]:.3f} against {corrupt[0.0]:.3f}, "
      f"a rise of {corrupt[0.2] / clean[0.2] - 1:.0%} against {corrupt[0.0] / clean[0.0] - 1:.0%}")
claim("The training loss ends higher with dropout than without.",
      losses["p_drop = 0.2"][-1] > losses["p_drop = 0.0"][-1],
      with_dropout=losses["p_drop = 0.2"][-1], without=losses["p_drop = 0.0"][-1])
claim("On clean held-out images the pair trained without dropout reconstructs better.",
      clean[0.0] < clean[0.2], without=clean[0.0], with_dropout=clean[0.2])
claim("With a fifth of the code dropped at test time the denoising pair reconstructs better.",
      corrupt[0.2] < corrupt[0.0], with_dropout=corrupt[0.2], without=corrupt[0.0])
claim("Dropping the code raises the held-out loss by under 50% for the denoising pair and by "
      "over 50% for the other.", corrupt[0.2] < 1.5 * clean[0.2] and corrupt[0.0] > 1.5 * clean[0.0],
      rise_with_dropout=corrupt[0.2] / clean[0.2], rise_without=corrupt[0.0] / clean[0.0])
show(plot_reconstructions(Xte, pair(saes[0.2]).forward(Xte[:10]), image_shape, None,
                          title="Held-out images and their reconstructions (p_drop = 0.2, "
                                "dropout off)"), "02_reconstructions.png")

# %% [markdown]
# **Inline question 1.** Point 2 compares the two pairs with dropout *off*.  Why would
# comparing their training losses (dropout on for one of them) be unfair?
#
# ## 5. What the corruption looks like
#
# At depth 0 the code is corrupted; deeper pairs corrupt their input too.  Here is dropout
# applied to images, to make the noise visible (multiplied by 0.8 to undo the 1/0.8).

# %%
noisy = Dropout(0.2, random_state=0).forward(Xte[:10], train=True) * 0.8
show(plot_reconstructions(Xte[:10], noisy, image_shape, None, row_labels=("clean", "dropped"),
                          title="Dropout (p_drop = 0.2) on pixels"), "02_dropout_noise.png")
summary()

# %% [markdown]
# ## Exercises
#
# 1. *(derivation)* Show that the variance of `out[n, j]` under inverted dropout is
#    `x[n, j]^2 p / (1 - p)`.  What happens as p -> 1?
# 2. *(derivation)* The paper's loss is `||x - y||_2^2` summed over the batch.  By which
#    factor must the learning rate of an SGD run on it be multiplied to take the same steps
#    as one on `mse(..., reduction="batch")`?  On `reduction="mean"`?
# 3. *(derivation)* Compose exercises 2 and 3: for `x_hat = Dropout(h) @ W + b` with the
#    "batch" loss, write `dh[n, i]` as one sum over j.
# 4. *(experiment)* Run `train_pair(0.5, epochs)` and evaluate it with `held_out_loss`
#    at 0 and 0.2.  Does the ordering of section 4 change?
# 5. *(experiment)* Train without dropout for 10 times as many epochs.  Does the clean
#    held-out loss start to rise (overfitting), and does the comparison of point 2 change?
# 6. *(code)* Why is `Dropout(0.2).forward(x, train=True) * 0.8` a picture of "pixels
#    removed" while `Dropout(0.2).forward(x, train=True)` alone is not quite?  Compare the
#    mean of both with the mean of x.

# %% [markdown]
# # 02 · Dropout and the denoising autoencoder
#
# **What this teaches.** Sec. 3.2 of the paper pretrains each layer as a *denoising*
# autoencoder (Vincent et al., 2010): `x~ = Dropout(x)`, `h = g1(W1 x~ + b1)`,
# `h~ = Dropout(h)`, `y = g2(W2 h~ + b2)`, trained to minimise `||x - y||^2`, with
# dropout as the corruption (rate 20%).  We build inverted dropout, check its gradient,
# and see what the corruption does to a one-layer autoencoder's reconstructions.
#
# Run it: `python tutorials/02_dropout_denoising.py` (fast mode: a few seconds; full mode
# on MNIST-10k: about a minute).

# %%
import numpy as np
from _common import FAST, figure_path, load_data

from dec_np import StackedAutoencoder
from dec_np.gradcheck import check_layer, report
from dec_np.layers import Dropout
from dec_np.losses import mse
from dec_np.optim import SGD
from dec_np.plotting import plot_loss_history, plot_reconstructions

rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. Inverted dropout
#
# In training each unit is zeroed with probability `p_drop` and the survivors are scaled
# by `1 / (1 - p_drop)`, so the expected output equals the input; at inference the layer
# is the identity.  (The other convention, scaling at test time, would make inference
# depend on the training rate.)

# %%
drop = Dropout(p_drop=0.2, random_state=0)
x = np.ones((1000, 50))
out = drop.forward(x, train=True)
print(f"fraction zeroed: {np.mean(out == 0):.3f} (p_drop = 0.2)")
print(f"kept values: {np.unique(out[out > 0])} (= 1 / 0.8)")
print(f"mean output: {out.mean():.3f} (expected 1)")
print("inference is the identity:", np.array_equal(drop.forward(x, train=False), x))

# %% [markdown]
# ## 2. Backward: the same mask
#
# `out = x * m / (1 - p)` with the mask m fixed, so `dx = dout * m / (1 - p)`: backward
# reuses the cached mask.  A gradient check must see the same mask in every forward pass,
# hence `freeze_mask`.

# %%
drop64 = Dropout(0.5, random_state=1)
drop64.freeze_mask = True
print(report(check_layer(drop64, rng.standard_normal((4, 6))), title="Dropout(0.5), frozen mask"))

# %% [markdown]
# ## 3. A denoising autoencoder of one layer, trained by hand
#
# `StackedAutoencoder.layer_pair(i)` is the paper's denoising pair of depth i.  As in the
# original code the raw pixels are not dropped at depth 0, only the hidden code; deeper
# pairs drop their input too, and the pair that produces the embedding z has no dropout
# on z.  We train the depth-0 pair with a plain loop (the one `pretrain_layerwise` runs),
# with and without dropout, and compare held-out reconstructions.

# %%
X, y, image_shape, name = load_data(1500 if FAST else None, prefer_mnist=not FAST)
Xtr, Xte = X[: int(0.8 * len(X))], X[int(0.8 * len(X)):]
shape_of = lambda net: [type(l).__name__ for l in net.layers]  # noqa: E731
print("layer_pair(0):", shape_of(StackedAutoencoder((X.shape[1], 64, 10)).layer_pair(0)))
print("layer_pair(1):", shape_of(StackedAutoencoder((X.shape[1], 64, 32, 10)).layer_pair(1)))


def train_pair(p_drop, epochs, batch_size=64, lr=0.01):
    """Train depth 0 of a (d, 64, 10) stack as a denoising autoencoder; return it and its losses."""
    sae = StackedAutoencoder((X.shape[1], 64, 10), p_drop=p_drop, random_state=0)
    net = sae.layer_pair(0)  # Dense, ReLU, Dropout, Dense
    params = {f"{n}.{k}": v for n, l in (("enc", sae.encoders[0]), ("dec", sae.decoders[0]))
              for k, v in l.params.items()}
    grads = {f"{n}.{k}": v for n, l in (("enc", sae.encoders[0]), ("dec", sae.decoders[0]))
             for k, v in l.grads.items()}
    opt, order, history = SGD(lr, momentum=0.9), np.random.default_rng(0), []
    for _ in range(epochs):
        perm, total = order.permutation(len(Xtr)), 0.0
        for s in range(0, len(Xtr), batch_size):
            xb = Xtr[perm[s:s + batch_size]]
            loss, dout = mse(net.forward(xb, train=True), xb)  # dropout on
            net.backward(dout, need_dx=False)
            opt.step(params, grads)
            total += float(loss) * len(xb)
        history.append(total / len(Xtr))
    return net, history


epochs = 15 if FAST else 40
losses, nets = {}, {}
for p_drop in (0.0, 0.2):
    nets[p_drop], losses[f"p_drop = {p_drop}"] = train_pair(p_drop, epochs)
    held_out = float(mse(nets[p_drop].forward(Xte, train=False), Xte)[0])  # dropout off
    print(f"p_drop {p_drop}: last training loss {losses[f'p_drop = {p_drop}'][-1]:.4f}, "
          f"held-out loss {held_out:.4f}")

plot_loss_history(losses, figure_path("02_dae_loss.png"),
                  title="Depth-0 denoising pair: training loss (dropout on)")
plot_reconstructions(Xte, nets[0.2].forward(Xte[:10]), image_shape,
                     figure_path("02_reconstructions.png"),
                     title="Held-out images and their reconstructions (p_drop = 0.2)")

# %% [markdown]
# The training loss with dropout is higher (the network sees corrupted codes); the
# held-out loss, with dropout off, is what counts.  With a small code and little data the
# two end up close; dropout's value is that each hidden unit must be useful on its own,
# which the layer-wise scheme needs, as the next depth is trained on these codes.
#
# ## 4. What the corruption looks like
#
# At depth 0 the code is corrupted; deeper pairs corrupt their input.  Here is dropout
# applied to images, to make the noise visible.

# %%
noisy = Dropout(0.2, random_state=0).forward(Xte[:10], train=True) * 0.8  # undo the 1/0.8
plot_reconstructions(Xte[:10], noisy, image_shape, figure_path("02_dropout_noise.png"),
                     row_labels=("clean", "dropped"), title="Dropout (p_drop = 0.2) on pixels")

# %% [markdown]
# ## What to try next
#
# - Raise `p_drop` to 0.5: does the held-out loss still beat no dropout?
# - Train two depths, `StackedAutoencoder((d, 64, 32))`, and look at `layer_pair(1)`: its
#   input is dropped too.
# - Tutorial 03 looks at the optimiser used here, tutorial 04 at the full stack.

# %% [markdown]
# # 03 · SGD with momentum and the learning-rate schedule
#
# **What this teaches.** Everything in DEC is trained by mini-batch SGD with momentum
# (Sec. 4.3 of the paper: batch 256, momentum 0.9, learning rate 0.1 divided by 10 every
# 20,000 iterations for pretraining; 0.01 for the clustering phase).  We look at the
# update `v = momentum * v - lr * g; w += v` on a toy problem, at the step schedule of
# `dec_np.optim.SGD(step_size=, gamma=)`, and at why our pretraining uses lr = 0.003
# rather than the paper's 0.1.
#
# Run it: `python tutorials/03_sgd_momentum.py` (a few seconds; full mode ~1 minute).

# %%
import copy

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from _common import FAST, figure_path, load_data  # noqa: E402

from dec_np import StackedAutoencoder  # noqa: E402
from dec_np.datasets import paper_scale  # noqa: E402
from dec_np.optim import SGD  # noqa: E402
from dec_np.plotting import plot_loss_history  # noqa: E402

# %% [markdown]
# ## 1. Momentum on an ill-conditioned bowl
#
# `f(w) = 0.5 * (w0^2 + 25 w1^2)`: steep along w1, flat along w0.  Plain SGD must keep the
# step small for the steep direction and then crawls along the flat one; momentum
# accumulates the consistent w0 component and damps the oscillating w1 component.  Too
# much momentum for the step size overshoots and spirals in slowly: momentum and lr are
# tuned together (here 0.5 with lr 0.1 is near the best for this condition number, 25).

# %%
H = np.array([1.0, 25.0])
paths = {}
for momentum, lr in [(0.0, 0.07), (0.5, 0.1), (0.9, 0.02)]:
    w = {"w": np.array([-9.0, 1.5])}
    opt, path = SGD(lr, momentum=momentum), [w["w"].copy()]
    for _ in range(60):
        opt.step(w, {"w": H * w["w"]})  # the gradient of f
        path.append(w["w"].copy())
    paths[f"momentum {momentum}, lr {lr}"] = np.array(path)
    print(f"momentum {momentum}: f after 60 steps = {0.5 * np.sum(H * path[-1] ** 2):.2e}")

g0, g1 = np.meshgrid(np.linspace(-10, 2, 200), np.linspace(-2, 2, 200))
fig, ax = plt.subplots(figsize=(6, 3.4))
ax.contour(g0, g1, 0.5 * (g0 ** 2 + 25 * g1 ** 2), levels=15, colors="0.8", linewidths=0.7)
for name, p in paths.items():
    ax.plot(p[:, 0], p[:, 1], "o-", ms=2.5, lw=1, label=name)
ax.plot(0, 0, "k*", ms=10, label="minimum")
ax.set_xlabel("w0 (flat direction)")
ax.set_ylabel("w1 (steep direction)")
ax.set_title("60 steps of SGD on f = (w0^2 + 25 w1^2) / 2", fontsize=10)
ax.legend(fontsize=8, loc="lower right")
fig.tight_layout()
fig.savefig(figure_path("03_momentum_paths.png"), dpi=100)
plt.close(fig)

# %% [markdown]
# ## 2. The step schedule
#
# `lr_t = lr * gamma ** (t // step_size)`.  The paper divides by 10 every 20,000 of its
# 50,000 layer-wise iterations (and 100,000 fine-tuning iterations).  `current_lr` is the
# rate the next step will use.

# %%
opt = SGD(0.1, momentum=0.9, step_size=20000, gamma=0.1)
steps = np.arange(0, 100001, 500)
rates = []
for t in steps:
    opt.t = t
    rates.append(opt.current_lr)
for t in (0, 19999, 20000, 40000, 99999):
    opt.t = t
    print(f"step {t:>6d}: lr {opt.current_lr:g}")
fig, ax = plt.subplots(figsize=(5.5, 3.2))
ax.step(steps, rates, where="post", label="lr = 0.1 * 0.1 ** (t // 20000)")
ax.axvline(50000, color="grey", ls=":", label="end of layer-wise (50,000)")
ax.set_yscale("log")
ax.set_xlabel("iteration t")
ax.set_ylabel("learning rate")
ax.set_title("The paper's pretraining schedule", fontsize=10)
ax.legend(fontsize=8)
ax.grid(alpha=0.3, which="both")
fig.tight_layout()
fig.savefig(figure_path("03_lr_schedule.png"), dpi=100)
plt.close(fig)

# %% [markdown]
# ## 3. Which learning rate for the autoencoder?
#
# The autoencoder's default loss (`mse(..., reduction="batch")`, Caffe's stock
# EuclideanLoss) is half the squared error *summed* over the d pixels and averaged over
# the batch, so its gradient is d times that of `reduction="mean"` (averaged over the
# pixels too), and a given lr is d times more aggressive.
# Whether a rate blows up depends on the weights: from the fresh N(0, 0.01^2) init the
# tiny weights keep the gradients small, and the danger comes after layer-wise
# pretraining, when the weights have grown.  So we pretrain layer-wise once and then
# fine-tune copies of that stack with several rates, on paper-scaled input as DEC sees it.
# The named schedules in `dec_np.schedules` use `loss_reduction="mean"` with lr 2.0
# (layer-wise) and 1.0 (fine-tuning), that is about 0.0026 and 0.0013 in the units here;
# tutorials 04, 07 and 09 use 0.003 and 0.001 with the default "batch" reduction (0.003
# for fine-tuning diverged in tutorial 07).

# %%
X, y, image_shape, name = load_data(1000 if FAST else 5000)
X = paper_scale(X)[0]  # DEC's input convention: mean (1/d)|x|^2 = 1
dims = (X.shape[1], 64, 64, 10) if FAST else (X.shape[1], 500, 500, 2000, 10)
pretrained = StackedAutoencoder(dims, random_state=0)
pretrained.pretrain_layerwise(X, epochs=3 if FAST else 10, batch_size=128, lr=0.003)
runs = {}
for lr, momentum in [(0.1, 0.9), (0.01, 0.9), (0.003, 0.9), (0.003, 0.0), (0.0003, 0.9)]:
    sae = copy.deepcopy(pretrained)
    label = f"lr {lr}, momentum {momentum}"
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # the diverging run overflows
            runs[label] = sae.finetune(X, epochs=4 if FAST else 15, batch_size=128, lr=lr,
                                       momentum=momentum)
        print(f"{label}: final loss {runs[label][-1]:.3f}")
    except FloatingPointError as exc:
        print(f"{label}: diverged ({exc})")
plot_loss_history(runs, figure_path("03_ae_learning_rates.png"),
                  title=f"Fine-tuning a pretrained {'-'.join(map(str, dims))} autoencoder")

# %% [markdown]
# A run that diverges is missing from the plot; SGD raises `FloatingPointError` with the
# iteration and the rate as soon as the loss is not finite.

# %% [markdown]
# ## What to try next
#
# - Add `weight_decay=` to SGD and watch the weights' norm.
# - Find the largest lr that still converges for d = 784 and for the 64-pixel digits: does
#   it scale like 1/d?
# - Tutorial 04 uses these settings for the full greedy layer-wise pretraining.

# %% [markdown]
# # 03 · SGD with momentum, Nesterov, the learning-rate schedule, and Adam
#
# **What you will be able to do.** The paper trains everything by mini-batch SGD with
# momentum (Sec. 4.3: batch 256, momentum 0.9, learning rate 0.1 divided by 10 every 20,000
# iterations for the autoencoder; 0.01 for the clustering phase).  You write the momentum
# update as `dec_np.optim.SGD` does it and Nesterov's variant, derive when momentum
# converges on a quadratic, draw the paper's schedule, compare optimisers on a small
# autoencoder, and see why the package's default pretraining departs from the paper.
#
# **Exercises:** 1 `sgd_momentum_step`, 2 `sgd_nesterov_step`, 3 `adam_stage`, as in
# tutorials 01 and 02 (`YOUR CODE HERE`; `[PASS]`/`[FAIL]`/`[TODO]`).  Solutions:
# `tutorials/solutions/03_sgd_momentum.py`.  **Data.** Sections 1 to 4: a 2-D quadratic.
# Sections 5 and 6: in fast mode (`DEC_NP_FAST=1`, what the test suite runs) 1,500 of the
# embedded 8x8 digits; in full mode the 10,000 MNIST test images when they are under
# `DEC_NP_DATA` (else all 1,797 digits).  Run: `python tutorials/03_sgd_momentum.py`.

# %%
import warnings

import matplotlib.pyplot as plt

import numpy as np
from _common import FAST, check, claim, exercise, load_data, show, start, summary

from dec_np import StackedAutoencoder
from dec_np.augment import shifter
from dec_np.autoencoder import capped_lr, steps_with_min_epochs
from dec_np.losses import mse
from dec_np.optim import SGD
from dec_np.plotting import plot_loss_history, plot_reconstructions
from dec_np.schedules import finetune_lr, get_schedule

start("03_sgd_momentum")
print("data: a 2-D quadratic (sections 1-4); for sections 5 and 6:")
X, y, image_shape, name = load_data(1500 if FAST else None, prefer_mnist=not FAST)

# %% [markdown]
# ## 1. The momentum update
#
# Plain gradient descent steps `w -= lr * g`.  Momentum keeps a velocity `v` (zero at the
# start), a decaying sum of past steps, and moves along it:
#
#     v <- momentum * v - lr * g
#     w <- w + v
#
# This is Caffe's rule and `dec_np.optim.SGD`'s (PyTorch puts `lr` outside the sum; with
# a constant lr the two are the same).  Unrolled, after t steps
# `v_t = -lr * sum_{s<=t} momentum^(t-s) g_s`: with a constant gradient g the velocity tends
# to `-lr g / (1 - momentum)`, ten times the plain step for momentum 0.9, while gradients
# whose sign alternates from step to step largely cancel.
#
# `SGD` updates the arrays **in place** (`v *= ...`, `w += ...`), so a layer that holds a
# reference to its `W` sees the new values without being told.
#
# **Exercise 1.** Write `sgd_momentum_step`.  The check runs it for five steps on the
# quadratic below and compares `w` and `v` with `dec_np.optim.SGD`; they should agree to
# round-off (**below 1e-12**).

# %%
@exercise
def sgd_momentum_step(w, g, v, lr, momentum):
    """One step of SGD with momentum, in place (Caffe's rule): v <- momentum * v - lr * g;
    w <- w + v.  w, g, v : ndarrays of one shape (w and v updated in place); returns None."""
    # YOUR CODE HERE (two or three lines; update the arrays, do not rebind the names)
    raise NotImplementedError("sgd_momentum_step: update v, then w, in place")
    # END OF YOUR CODE


H = np.array([1.0, 25.0])  # f(w) = 0.5 * (w0^2 + 25 w1^2), gradient H * w
W_START = np.array([-9.0, 1.5])
f = lambda w: 0.5 * float(np.sum(H * w ** 2))  # noqa: E731


def run(step, lr, momentum, n=5, nesterov=False):
    """w and v after n steps from W_START, by ``step`` (yours) or, if None, by ``SGD``."""
    w, v, opt = W_START.copy(), np.zeros(2), SGD(lr, momentum=momentum, nesterov=nesterov)
    for _ in range(n):
        if step:
            step(w, H * w, v, lr, momentum)
        else:
            opt.step({"w": w}, {"w": H * w})
    return {"w": w, "v": v if step else opt.velocity["w"]}


check("sgd_momentum_step: w, v after 5 steps", lambda: run(sgd_momentum_step, 0.02, 0.9),
      run(None, 0.02, 0.9), rtol=1e-12, against="dec_np.optim.SGD")

# %% [markdown]
# ## 2. When does momentum converge?  A quadratic, by hand
#
# Take one direction of curvature h: `f(w) = 0.5 h w^2`, `g = h w`.  One step maps
# `(w, v)` linearly to
#
#     v' = momentum v - lr h w
#     w' = w + v' = (1 - lr h) w + momentum v
#
# so `(w', v') = A (w, v)` with `A = [[1 - lr h, momentum], [-lr h, momentum]]`.  Its trace
# is `1 + momentum - lr h` and its determinant `momentum (1 - lr h) + momentum lr h =
# momentum`, so the eigenvalues are the roots of
#
#     z^2 - (1 + momentum - lr h) z + momentum = 0.
#
# Both roots lie inside the unit circle (the iteration converges) exactly when
# `|momentum| < 1`, `p(1) = lr h > 0` and `p(-1) = 2 (1 + momentum) - lr h > 0`:
#
#     0 < lr h < 2 (1 + momentum)
#
# With momentum 0 this is the familiar `lr < 2 / h`; momentum 0.9 allows up to `3.8 / h`.
# The steepest direction (largest h) sets the limit, and the flattest decides the speed.
# On our bowl the steep direction has h = 25: plain SGD must keep lr below 0.08, momentum
# 0.9 below 0.152.  The run below checks both limits, 1% on either side.

# %%
f0 = f(W_START)
for m in (0.0, 0.9):
    limit = 2 * (1 + m) / H.max()
    below, above = (f(run(None, factor * limit, m, n=400)["w"]) for factor in (0.99, 1.01))
    print(f"momentum {m}: limit lr = {limit:.4f}; f after 400 steps {below:.2e} at 0.99 x limit, "
          f"{above:.2e} at 1.01 x limit (f at the start {f0:.1f})")
    claim(f"With momentum {m}, 400 steps at 0.99 x the limit end below the start and at 1.01 x "
          "the limit above it.", below < f0 < above, below=below, above=above)

# %% [markdown]
# The fastest settings for a quadratic with curvatures between mu and L are known (Polyak's
# heavy ball): `lr = 4 / (sqrt(L) + sqrt(mu))^2` and
# `momentum = ((sqrt(L) - sqrt(mu)) / (sqrt(L) + sqrt(mu)))^2`, here 0.111 and 0.444, with
# the error shrinking by `(sqrt(L/mu) - 1) / (sqrt(L/mu) + 1) = 2/3` per step, against
# `(L/mu - 1) / (L/mu + 1) = 12/13` for the best plain step `lr = 2 / (L + mu) = 0.077`.
# Here are three settings near those, 60 steps each:

# %%
paths = {(m, lr): np.array([W_START] + [run(None, lr, m, n=t)["w"] for t in range(1, 61)])
         for m, lr in [(0.0, 0.07), (0.5, 0.1), (0.9, 0.02)]}  # w after 0 to 60 steps
f60 = {k: f(p[-1]) for k, p in paths.items()}
for (m, lr), value in f60.items():
    print(f"momentum {m}, lr {lr}: f after 60 steps = {value:.2e}")
claim("After 60 steps momentum 0.5 with lr 0.1 is at least 1000 times closer to the minimum (in f) "
      "than plain SGD with lr 0.07 and than momentum 0.9 with lr 0.02.",
      f60[(0.5, 0.1)] * 1000 < min(f60[(0.0, 0.07)], f60[(0.9, 0.02)]),
      f_momentum_05=f60[(0.5, 0.1)], f_plain=f60[(0.0, 0.07)], f_momentum_09=f60[(0.9, 0.02)])

g0, g1 = np.meshgrid(np.linspace(-10, 2, 200), np.linspace(-2, 2, 200))
fig, ax = plt.subplots(figsize=(6, 3.4))
ax.contour(g0, g1, 0.5 * (g0 ** 2 + 25 * g1 ** 2), levels=15, colors="0.8", linewidths=0.7)
for (momentum, lr), p in paths.items():
    ax.plot(p[:, 0], p[:, 1], "o-", ms=2.5, lw=1, label=f"momentum {momentum}, lr {lr}")
ax.plot(0, 0, "k*", ms=10, label="minimum")
ax.set(xlabel="w0 (flat direction, h = 1)", ylabel="w1 (steep direction, h = 25)")
ax.set_title("60 steps of SGD on f = (w0^2 + 25 w1^2) / 2", fontsize=10)
ax.legend(fontsize=8, loc="lower right")
show(fig, "03_momentum_paths.png")

# %% [markdown]
# Momentum 0.9 with lr 0.02 overshoots: its roots have modulus `sqrt(momentum) = 0.95` in
# both directions, so it spirals in slowly.  Momentum and learning rate are tuned together.
#
# **Inline question 1.** In the steep direction (h = 25) with momentum 0.5 and lr 0.1,
# `(1 + momentum - lr h)^2 - 4 momentum` is negative.  What does that say about the roots,
# and about the path the figure shows along w1?
#
# ## 3. Nesterov's momentum
#
# Nesterov's method evaluates the gradient at the point momentum is about to carry the
# weights to: `v' = momentum v - lr grad f(w + momentum v)`, `w' = w + v'`.  Tracking the
# look-ahead point `u = w + momentum v` instead of w (substitute and collect terms) turns it
# into an update that needs only the gradient at the current parameters, the form of
# Sutskever et al. (2013) that `SGD(nesterov=True)` and PyTorch use:
#
#     v <- momentum * v - lr * g
#     w <- w + momentum * v - lr * g        (v already the new velocity)
#
# **Exercise 2.** Write `sgd_nesterov_step`, checked like exercise 1 against
# `SGD(nesterov=True)` (**below 1e-12**).  Then redo the substitution on paper (problem 3
# at the end).

# %%
@exercise
def sgd_nesterov_step(w, g, v, lr, momentum):
    """One step of Nesterov momentum (Sutskever et al.'s form), in place.

    v <- momentum * v - lr * g;  w <- w + momentum * v - lr * g (with the new v).
    Arguments as in ``sgd_momentum_step``; returns None.
    """
    # YOUR CODE HERE (two or three lines)
    raise NotImplementedError("sgd_nesterov_step: update v, then w, in place")
    # END OF YOUR CODE


check("sgd_nesterov_step: w, v after 5 steps", lambda: run(sgd_nesterov_step, 0.02, 0.9),
      run(None, 0.02, 0.9, nesterov=True), rtol=1e-12, against="dec_np.optim.SGD(nesterov=True)")

# %% [markdown]
# ## 4. The step schedule, and the paper's whole pretraining
#
# `SGD(lr, step_size=s, gamma=g)` uses `lr_t = lr * g ** (t // s)` after t steps of *its*
# counter (`current_lr` is the rate of the next step).  The paper: "each layer is
# pretrained for 50000 iterations ... the entire deep autoencoder is further finetuned for
# 100000 iterations ... starting learning rate is set to 0.1, which is divided by 10 every
# 20000 iterations."  Every stage has its own optimiser, so every stage starts again at 0.1:
# four layer-wise stages of 50,000 iterations (0.1, 0.01, 0.001), then fine-tuning for
# 100,000 (0.1 down to 1e-5).

# %%
starts, t0, rates = {}, 0, []
for stage_name, length in [(f"layer {i}", 50000) for i in range(4)] + [("fine-tuning", 100000)]:
    opt, starts[stage_name] = SGD(0.1, momentum=0.9, step_size=20000, gamma=0.1), t0  # one per stage
    for t in range(0, length, 500):
        opt.t = t
        rates.append((t0 + t, opt.current_lr))
    opt.t = length - 1
    last_lr, t0 = opt.current_lr, t0 + length
    print(f"{stage_name:>11}: iterations {t0 - length:>6d} to {t0 - 1:>6d}, lr 0.1 down to {last_lr:g}")
ts, lrs = np.array(rates).T
ft = ts >= starts["fine-tuning"]
claim("Fine-tuning restarts at lr 0.1 and ends at 1e-5; each layer-wise stage ends at 0.001.",
      np.isclose(lrs[ft][0], 0.1) and np.isclose(last_lr, 1e-5)
      and np.isclose(lrs[np.searchsorted(ts, starts["layer 1"]) - 1], 0.001),
      fine_tuning_first=float(lrs[ft][0]), fine_tuning_last=last_lr)
fig, ax = plt.subplots(figsize=(6.5, 3.2))
ax.step(ts, lrs, where="post", label="lr = 0.1 * 0.1 ** (t // 20000), t counted per stage")
for stage_name, s in starts.items():
    ax.axvline(s, color="grey", ls=":", lw=0.8)
    ax.text(s + 2000, 0.15, stage_name, fontsize=7, rotation=90, va="top")
ax.set(yscale="log", ylim=(5e-6, 0.2), xlabel="iteration (all stages in a row)",
       ylabel="learning rate")
ax.set_title("The paper's pretraining schedule: 4 x 50,000 layer-wise + 100,000 fine-tuning",
             fontsize=10)
ax.legend(fontsize=8, loc="lower left")
ax.grid(alpha=0.3, which="both")
show(fig, "03_lr_schedule.png")

# %% [markdown]
# ## 5. Learning rate, momentum and Adam on an autoencoder
#
# Now a real loss surface: a stacked autoencoder d-64-64-128-10-128-64-64-d in fast mode
# (d-256-256-10-256-256-d on MNIST in full mode), trained end to end on tutorial 02's loss
# (`mse`, reduction "batch") from the same Glorot weights, for the same number of steps,
# with different optimisers.  `StackedAutoencoder.finetune` (tutorial 04) runs tutorial
# 02's loop over the whole stack; when an epoch's mean loss is not finite, or 100 times the
# first batch's, it restarts the stage at a tenth of the rate with a `RuntimeWarning`: here
# that counts as "diverged at the rate asked".  The last run uses **Adam** (Kingma & Ba, 2015;
# `dec_np.optim.Adam`): running means of g and g^2 per weight, steps of
# `lr * m_hat / (sqrt(v_hat) + eps)`.  Units: with reduction "batch" the gradient is d times
# that of "mean" (tutorial 02), so the paper's 0.1 ("mean") is 0.1 / d here.

# %%
dims = (X.shape[1], 64, 64, 128, 10) if FAST else (X.shape[1], 256, 256, 10)
iterations, batch_size = (500, 64) if FAST else (600, 256)
runs, final = {}, {}
settings = [("sgd", 0.3, 0.9), ("sgd", 0.1, 0.0), ("sgd", 0.01, 0.9), ("sgd", 0.01, 0.0),
            ("adam", 0.001, None)]
for optimizer, lr, momentum in settings:
    sae = StackedAutoencoder(dims, init_std="glorot", random_state=0)  # the same start
    label = f"SGD lr {lr}, momentum {momentum}" if optimizer == "sgd" else f"Adam lr {lr}"
    with np.errstate(over="ignore", invalid="ignore"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        history = sae.finetune(X, iterations=iterations, batch_size=batch_size, lr=lr,
                               momentum=momentum or 0.0, optimizer=optimizer)
    restarts = [str(w.message) for w in caught if "retrying" in str(w.message)]
    if restarts:
        final[label] = float("inf")
        print(f"{label}: diverged ({restarts[0]})")
    else:
        runs[label], final[label] = history, sae.reconstruction_loss(X)
        print(f"{label}: loss on all images after {iterations} steps {final[label]:.4f}")
show(plot_loss_history(runs, None, title=f"Training {'-'.join(map(str, dims))} from the same "
                       "start (diverged runs missing)"), "03_ae_optimizers.png")

# %%
sgd = lambda lr, m: final[f"SGD lr {lr}, momentum {m}"]  # noqa: E731
claim("SGD at lr 0.3 with momentum 0.9 diverges.", np.isinf(sgd(0.3, 0.9)))
claim("At lr 0.01, momentum 0.9 ends lower than momentum 0.",
      sgd(0.01, 0.9) < sgd(0.01, 0.0), momentum_09=sgd(0.01, 0.9), momentum_0=sgd(0.01, 0.0))
claim("Momentum 0.9 at lr 0.01 ends lower than plain SGD at lr 0.1 (the same long-run step "
      "lr / (1 - momentum)), by more than 0.15.", sgd(0.01, 0.9) < sgd(0.1, 0.0) - 0.15,
      momentum=sgd(0.01, 0.9), plain=sgd(0.1, 0.0))
claim("Adam at lr 0.001 ends lowest of all five runs.",
      final["Adam lr 0.001"] == min(final.values()), adam=final["Adam lr 0.001"])

# %% [markdown]
# Too large a rate diverges (the warning above names the iteration).  At the same rate
# momentum wins, and not just because its long-run step `lr / (1 - momentum)` is ten times
# larger: plain SGD at lr 0.1, the same long-run step, ends well above it, or diverges.
# The velocity averages away the parts of the gradient that flip sign from step to step,
# which a larger plain step amplifies (a run this close to a stability limit is sensitive to
# round-off).  Adam, at its usual lr 0.001 and with no tuning to the loss's units, ends lowest.

# %% [markdown]
# ## 6. Why the package's default pretraining departs from the paper
#
# `DEC()` pretrains with `get_schedule("default")`, printed below: layer-wise denoising as in the
# paper (tutorial 04), then Adam (on shifted copies of images) at a rate set by the data's size
# ("lr_below", then a cap).  **(a) Scale.**  Multiply the loss by c and SGD's step `lr c g` grows
# c times, so its rate must suit the loss's units; Adam's `m_hat / sqrt(v_hat)` does not change
# (up to eps).  Below: section 5's momentum and Adam runs on the loss / d.  **(b) Shifts.**  To
# a network that reconstructs pixels, a digit moved by a pixel is another input.
# `dec_np.augment.shifter` moves each image of a batch by its own random whole-pixel offset (up
# to a fraction `shift` of its side); fine-tuned on such images, the embedding covers them.

# %%
DEFAULT, end = get_schedule("default"), {}  # end: the loss / d run's end over section 5's
print("the default schedule:", DEFAULT)
for label, opt, lr, m in [("SGD lr 0.01, momentum 0.9", "sgd", 0.01, 0.9),
                          ("Adam lr 0.001", "adam", 0.001, 0)]:
    sae = StackedAutoencoder(dims, init_std="glorot", loss_reduction="mean", random_state=0)
    sae.finetune(X, iterations=iterations, batch_size=batch_size, lr=lr, momentum=m, optimizer=opt)
    end[opt] = float(mse(sae.reconstruct(X), X)[0]) / final[label]  # both in section 5's units
claim("On the loss / d Adam ends within 5% of where it ends on the loss; SGD at the same rate "
      "ends more than twice as high.", abs(end["adam"] - 1) < 0.05 and end["sgd"] > 2, **end)
shift, imgs, others = shifter(image_shape, DEFAULT["augment"]["shift"]), X[:1000], X[1000:2000]
shifted = shift(imgs, np.random.default_rng(0))
same, same_shifted = ((y[1000:2000][((others ** 2).sum(1) - 2 * Q @ others.T).argmin(1)]
                       == y[:1000]).mean() for Q in (imgs, shifted))  # class of the nearest other
claim(f"Shifted, an image's nearest neighbour in pixels has its class at least 20 points less "
      f"often (shifts up to {shift.max_shift} pixel(s), {len(imgs):,} images, {len(others):,} "
      "others).", same_shifted < same - 0.2, same=same, shifted=same_shifted)
show(plot_reconstructions(imgs, shifted, image_shape, None, row_labels=("image", "shifted"),
                          title="Random shifts (dec_np.augment.shifter)"), "03_shifts.png")

# %% [markdown]
# **(c) A cap on lr x epochs.**  S steps at batch B make `E = S / ceil(n / B)` passes over n
# rows.  Adam moves each weight by about lr a step whatever the scale (a), so `lr * E` measures
# how far a stage pulls the weights towards each image.  `finetune(..., min_epochs=m,
# lr_epochs=L)` bounds both: at least m passes (`steps_with_min_epochs`), a rate keeping
# `rate * E <= lr * L` (`capped_lr`; lr: the stage's rate on n rows, `finetune_lr`).
# **Exercise 3.** Write `adam_stage`, checked against those two on the default's stage at
# several sizes (**below 1e-12**).

# %%
@exercise
def adam_stage(n, iterations, batch_size, lr, min_epochs=None, lr_epochs=None):
    """Steps and rate of a stage on n rows: ``steps = max(S, ceil(m * ceil(n / B)))``, ``rate =
    lr * min(1, L / (steps / ceil(n / B)))``; S, B, m, L: ``iterations``, ``batch_size``,
    ``min_epochs``, ``lr_epochs`` (None: no floor, no cap)."""
    # YOUR CODE HERE (four or five lines; an epoch is ceil(n / batch_size) batches)
    raise NotImplementedError("adam_stage: the floor on the steps, then the cap on the rate")
    # END OF YOUR CODE


ft, lr = DEFAULT["finetune"], lambda n: finetune_lr(DEFAULT, n)  # the stage's rate on n rows
S, B, m, L = (ft[k] for k in ("iterations", "batch_size", "min_epochs", "lr_epochs"))
cap_to, floor_from = B * (-(-S // L) - 1), B * int(S // m) + 1  # the cap's last n, the floor's 1st
package = {n: (t, capped_lr(lr(n), t / -(-n // B), L)) for n in (1000, cap_to, cap_to + 1,
           floor_from - 1, floor_from, 70000) for t in [steps_with_min_epochs(n, S, B, m)]}
rows = lambda f: {f"{k} at {n:,} rows": v for n in package for k, v in zip(("steps", "lr"), f(n))}
check(f"adam_stage: the default's steps and rate at {len(package)} sizes",
      lambda: rows(lambda n: adam_stage(n, S, B, lr(n), m, L)), rows(package.get), rtol=1e-12,
      against="steps_with_min_epochs and capped_lr")
claim(f"The default's fine-tuning runs below its rate up to {cap_to:,} rows, at its rate from "
      f"{cap_to + 1:,}; it takes S steps up to {floor_from - 1:,} rows, more from {floor_from:,}.",
      package[cap_to][1] < lr(cap_to) and lr(cap_to + 1) == package[cap_to + 1][1]
      and package[floor_from - 1][0] == S < package[floor_from][0],
      lr_on_1000_rows=package[1000][1], steps_on_70000_rows=package[70000][0])

# %% [markdown]
# A small data set gets a gentler rate, a large one at least m passes.  What each departure gains,
# on which data: [docs/defaults-study.md](../docs/defaults-study.md).

# %%
summary()

# %% [markdown]
# ## Problems
#
# 1. *(derivation)* With a constant gradient g, show that classical momentum's velocity is
#    `v_t = -lr g (1 - momentum^t) / (1 - momentum)`.  After how many steps is it within 1%
#    of its limit for momentum 0.9?  For 0.99?
# 2. *(derivation)* Redo section 2 for the Nesterov update: its 2x2 matrix for
#    `f = 0.5 h w^2`, and the range of `lr h` for which it converges.
# 3. *(derivation)* From `v' = momentum v - lr grad f(w + momentum v)`, `w' = w + v'`,
#    substitute `u = w + momentum v` and show that u follows the update of exercise 2.
# 4. *(derivation)* PyTorch's SGD writes `b <- momentum b + g; w <- w - lr b`.  Show that it
#    is Caffe's rule (`v = -lr b`) while lr is constant; what differs when lr drops?
# 5. *(experiment)* In section 5, find the largest lr (to a factor of 2) at which plain SGD
#    still converges, and the same for momentum 0.9.  Is their ratio near 1.9?
# 6. *(experiment)* The cap scales Adam's rate with the data and keeps the steps.  The other
#    way keeps lr and stops the stage at L epochs.  With `adam_stage` as a model, write that
#    rule and compare the two on the sizes of section 6: what does each save or cost?
# 7. *(open)* Pretrain with `schedule="sgd"` and with `schedule="adam"` on 2,000
#    Fashion-MNIST images; compare the spread of z (its per-dimension standard deviation
#    against the distances between the k-means centroids) and the sharpness of q at the
#    start of DEC.  From which start does DEC move further, and why?

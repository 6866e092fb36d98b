# %% [markdown]
# # 03 · SGD with momentum, Nesterov, and the learning-rate schedule
#
# **What you will be able to do.** The paper trains everything by mini-batch SGD with
# momentum (Sec. 4.3: batch 256, momentum 0.9, learning rate 0.1 divided by 10 every 20,000
# iterations for the autoencoder; 0.01 for the clustering phase).  You write the momentum
# update as `dec_np.optim.SGD` does it (Caffe's rule) and Nesterov's variant (two
# exercises), derive when momentum converges on a quadratic, draw the paper's schedule,
# compare learning rates, momentum and Adam on a small autoencoder, and write the rule that
# sets the default's Adam rate from the size of the data (a third exercise, section 6).
#
# **Data.** Sections 1 to 4: a two-dimensional quadratic, no data.  Section 5: fast mode
# (`DEC_NP_FAST=1`, what the test suite runs) 1,500 of the embedded 8x8 UCI digits; full
# mode the 10,000 MNIST test images when they are under `DEC_NP_DATA` (else all 1,797
# digits).  Section 6 reads the package's recorded benchmark results (`docs/results/`).
#
# Exercises work as in tutorials 01 and 02 (`YOUR CODE HERE`; `[PASS]`/`[FAIL]`/`[TODO]`;
# the lesson runs to the end with the package's optimiser whatever your code does).
# Solutions: `tutorials/solutions/03_sgd_momentum.py`.
#
# Run it: `python tutorials/03_sgd_momentum.py`.  Measured on a 2-core Intel Xeon with one
# BLAS thread, beside other jobs: fast mode 8 to 10 s, full mode on MNIST-10k 2.5 min.

# %%
import json
import warnings

import matplotlib.pyplot as plt

import numpy as np
import _common
from _common import FAST, check, claim, exercise, load_data, show, start, summary

from dec_np import StackedAutoencoder
from dec_np.autoencoder import capped_lr, steps_with_min_epochs
from dec_np.optim import SGD
from dec_np.plotting import plot_loss_history
from dec_np.schedules import DEFAULT, SCHEDULES

start("03_sgd_momentum")
print("data: a 2-D quadratic (sections 1-4); for section 5:")
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
    """One step of SGD with momentum, in place (Caffe's rule).

    Parameters
    ----------
    w : ndarray, the parameters; updated in place
    g : ndarray of the shape of w, the gradient at w
    v : ndarray of the shape of w, the velocity; updated in place
    lr, momentum : float

    v <- momentum * v - lr * g;  w <- w + v.  Returns None.
    """
    # YOUR CODE HERE (two or three lines; update the arrays, do not rebind the names)
    raise NotImplementedError("sgd_momentum_step: update v, then w, in place")
    # END OF YOUR CODE


H = np.array([1.0, 25.0])  # f(w) = 0.5 * (w0^2 + 25 w1^2), gradient H * w
W_START = np.array([-9.0, 1.5])


def run_student(step, lr, momentum, n=5):
    w, v = W_START.copy(), np.zeros(2)
    for _ in range(n):
        step(w, H * w, v, lr, momentum)
    return w, v


def run_package(lr, momentum, n=5, nesterov=False):
    params = {"w": W_START.copy()}
    opt = SGD(lr, momentum=momentum, nesterov=nesterov)
    for _ in range(n):
        opt.step(params, {"w": H * params["w"]})
    return params["w"], opt.velocity["w"]


check("sgd_momentum_step: w, v after 5 steps", lambda: run_student(sgd_momentum_step, 0.02, 0.9),
      run_package(0.02, 0.9), rtol=1e-12, against="dec_np.optim.SGD")

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
def final_f(lr, momentum, n=400):
    w, v = run_package(lr, momentum, n)
    return 0.5 * float(np.sum(H * w ** 2))


f0 = 0.5 * float(np.sum(H * W_START ** 2))
for m in (0.0, 0.9):
    limit = 2 * (1 + m) / H.max()
    below, above = final_f(0.99 * limit, m), final_f(1.01 * limit, m)
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
paths = {}
for momentum, lr in [(0.0, 0.07), (0.5, 0.1), (0.9, 0.02)]:
    w = {"w": W_START.copy()}
    opt, path = SGD(lr, momentum=momentum), [w["w"].copy()]
    for _ in range(60):
        opt.step(w, {"w": H * w["w"]})
        path.append(w["w"].copy())
    paths[(momentum, lr)] = np.array(path)
    print(f"momentum {momentum}, lr {lr}: f after 60 steps = "
          f"{0.5 * np.sum(H * path[-1] ** 2):.2e}")
f60 = {k: 0.5 * float(np.sum(H * p[-1] ** 2)) for k, p in paths.items()}
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
ax.set_xlabel("w0 (flat direction, h = 1)")
ax.set_ylabel("w1 (steep direction, h = 25)")
ax.set_title("60 steps of SGD on f = (w0^2 + 25 w1^2) / 2", fontsize=10)
ax.legend(fontsize=8, loc="lower right")
fig.tight_layout()
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
# `SGD(nesterov=True)` (**below 1e-12**).  Then redo the substitution on paper (exercise 3
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


check("sgd_nesterov_step: w, v after 5 steps", lambda: run_student(sgd_nesterov_step, 0.02, 0.9),
      run_package(0.02, 0.9, nesterov=True), rtol=1e-12, against="dec_np.optim.SGD(nesterov=True)")

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
stages = [(f"layer {i}", 50000) for i in range(4)] + [("fine-tuning", 100000)]
starts, t0, rates = {}, 0, []
for name, length in stages:
    opt = SGD(0.1, momentum=0.9, step_size=20000, gamma=0.1)  # a fresh optimiser per stage
    starts[name] = t0
    for t in range(0, length, 500):
        opt.t = t
        rates.append((t0 + t, opt.current_lr))
    opt.t = length - 1
    print(f"{name:>11}: iterations {t0:>6d} to {t0 + length - 1:>6d}, lr {0.1:g} down to "
          f"{opt.current_lr:g}")
    last_lr = opt.current_lr
    t0 += length
ts, lrs = np.array(rates).T
ft = ts >= starts["fine-tuning"]
claim("Fine-tuning restarts at lr 0.1 and ends at 1e-5; each layer-wise stage ends at 0.001.",
      np.isclose(lrs[ft][0], 0.1) and np.isclose(last_lr, 1e-5)
      and np.isclose(lrs[np.searchsorted(ts, starts["layer 1"]) - 1], 0.001),
      fine_tuning_first=float(lrs[ft][0]), fine_tuning_last=last_lr)
fig, ax = plt.subplots(figsize=(6.5, 3.2))
ax.step(ts, lrs, where="post", label="lr = 0.1 * 0.1 ** (t // 20000), t counted per stage")
for name, s in starts.items():
    ax.axvline(s, color="grey", ls=":", lw=0.8)
    ax.text(s + 2000, 0.15, name, fontsize=7, rotation=90, va="top")
ax.set_yscale("log")
ax.set_ylim(5e-6, 0.2)
ax.set_xlabel("iteration (all stages in a row)")
ax.set_ylabel("learning rate")
ax.set_title("The paper's pretraining schedule: 4 x 50,000 layer-wise + 100,000 fine-tuning",
             fontsize=10)
ax.legend(fontsize=8, loc="lower left")
ax.grid(alpha=0.3, which="both")
fig.tight_layout()
show(fig, "03_lr_schedule.png")

# %% [markdown]
# ## 5. Learning rate, momentum and Adam on an autoencoder
#
# Now a real loss surface: a stacked autoencoder d-64-64-128-10-128-64-64-d in fast mode
# (d-256-256-10-256-256-d on MNIST in full mode), trained end to end on the reconstruction
# loss of tutorial 02 (`mse`, reduction "batch") from the same random Glorot weights, for
# the same number of mini-batch steps, with different optimisers.
# `StackedAutoencoder.finetune` (tutorial 04's subject) runs exactly tutorial 02's loop
# (forward, loss, backward, `opt.step`) over the whole stack without dropout.  At the end
# of every epoch it checks the mean loss and raises `FloatingPointError`, naming the
# iteration, if it is not finite.
#
# The last run uses **Adam** (Kingma & Ba, 2015; `dec_np.optim.Adam`), which keeps running
# means of g and g^2 per weight and steps by `lr * m_hat / (sqrt(v_hat) + eps)`: each
# weight gets its own step size, about lr in size whatever the gradient's scale.
#
# A note on units: with reduction "batch" the gradient is d times that of "mean"
# (tutorial 02), and the paper's 0.1 is in "mean" units, so it corresponds to 0.1 / d
# here.  Which rates diverge depends on the units, the data and the weights; what
# carries over is the comparison.

# %%
dims = (X.shape[1], 64, 64, 128, 10) if FAST else (X.shape[1], 256, 256, 10)
iterations, batch_size = (500, 64) if FAST else (600, 256)
runs, final = {}, {}
settings = [("sgd", 0.3, 0.9), ("sgd", 0.1, 0.0), ("sgd", 0.01, 0.9), ("sgd", 0.01, 0.0),
            ("adam", 0.001, None)]
for optimizer, lr, momentum in settings:
    sae = StackedAutoencoder(dims, init_std="glorot", random_state=0)  # the same start
    label = f"SGD lr {lr}, momentum {momentum}" if optimizer == "sgd" else f"Adam lr {lr}"
    # a stage whose loss blows up is restarted by the package at a tenth of the rate, with a
    # RuntimeWarning; here that counts as "diverged at this rate"
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
# What these runs show (fast mode; full mode on MNIST-10k in brackets, measured once with
# the same code; the loss is summed over 784 pixels there instead of 64, hence the larger
# numbers):
#
# - Too large a rate diverges: lr 0.3 with momentum 0.9 blows the loss up within the first
#   epoch, where `finetune` checks it (a loss that is not finite, or 100 times the first
#   batch's, stops the stage; the package then restarts it from its first weights at a tenth
#   of the rate and warns, which is what the run above reports) (fast: iteration 24 [full: iteration 40]).
# - At the same rate momentum wins: at lr 0.01, 0.689 with momentum 0.9 against 1.518
#   without [9.52 against 15.70].  And it is not just a ten times larger rate: plain SGD at
#   lr 0.1, the same long-run step `lr / (1 - momentum)`, ends more than 0.15 above
#   momentum at lr 0.01 [in full mode it diverges outright: with 784 pixels per image the
#   gradients of the "batch" loss are larger and lr 0.1 is past plain SGD's limit].  Where
#   it ends depends on the machine: 0.934 on a 2-core Intel Xeon (OpenBLAS's SkylakeX
#   kernel), 0.878 on a 2-core AMD EPYC (its Haswell kernel).  The two kernels round the
#   float32 products differently, and steps this close to the limit amplify the difference;
#   the three other runs end within 0.002 of each other on the two machines.  The velocity
#   averages away the components of the gradient that flip sign from step to step, which a
#   larger plain step amplifies.
# - Adam, at its usual lr 0.001 and with no tuning to the loss's units, ends lowest:
#   0.549 (0.548 on the EPYC) [8.51].
#
# ## 6. What the package uses by default
#
# Adam's insensitivity to the scale of the gradient is why the package's first default
# pretraining (`DEC(schedule="adam")`, `dec_np.schedules`) trained the whole autoencoder end
# to end with Adam, lr 0.001, batch 256, 8,000 steps, with no layer-wise stage.  The paper's
# method (layer-wise denoising, then fine-tuning, SGD with momentum 0.9) is kept by name:
# `schedule="paper"` (the schedule of section 4) and `schedule="b64-steps"` (6,000 steps
# per depth + 16,000 at batch 64, constant rates, what a CPU can afford).  The recorded
# runs on the MNIST test set, the same three seeds, two BLAS threads (DEC's clustering
# accuracy after the whole pipeline):

# %%
results = _common.HERE.parent / "docs" / "results"
acc = {}
for schedule, fname in (("adam", "accept_adam_2threads.json"),
                        ("b64-steps", "accept_default_iterations_2threads.json")):
    acc[schedule] = [r["dec_acc"] for r in json.loads((results / fname).read_text())]
    print(f"schedule {schedule:>9}: DEC ACC on seeds 0, 1, 2 = {acc[schedule]} "
          f"(docs/results/{fname})")
claim('On each of the three recorded seeds the "adam" schedule gives a higher DEC accuracy than '
      '"b64-steps".', all(a > b for a, b in zip(acc["adam"], acc["b64-steps"])),
      adam_median=float(np.median(acc["adam"])), b64_median=float(np.median(acc["b64-steps"])))

# %% [markdown]
# Those runs are on MNIST alone.  The package's default must serve digits and clothes alike,
# so the candidates were also compared on three data sets, three seeds each, at about the
# same cost (`benchmarks/recipes.py`, docs/defaults-study.md round 8): `adam` and `sgd`,
# the same recipe with the design's optimiser in Adam's place (SGD with momentum 0.9 at
# lr 8 in the "mean" loss units, which a short screen ranked best of 0.5 to 8; batch 256,
# 8,000 steps, end to end, no dropout, Glorot weights).  Every run is
# `DEC(10, schedule=..., random_state=seed).fit(X)`, one BLAS thread, on one machine (a
# 2-core Intel Xeon): the machine changes a seed's result (tutorial 07, section 8), so
# recipes are compared only where they ran side by side.  The rule, fixed before the runs:
# the default is the best median over all nine runs among the recipes no more than 2 points
# below the best on any data set, and an SGD recipe within 1 point of that becomes the
# default, since SGD with momentum is what this course teaches.

# %%
study = [json.loads(line) for line in (results / "recipes_cpu.jsonl").read_text().splitlines()
         if line.strip()]
SETS = ("mnist-test", "usps", "fashion-mnist")


def runs_by_set(records, recipe):
    """The runs of ``recipe`` in ``records``, sorted by seed, and the same per data set."""
    runs = sorted((r for r in records if r["recipe"] == recipe and r["dataset"] in SETS),
                  key=lambda r: r["seed"])
    return runs, {d: [r for r in runs if r["dataset"] == d] for d in SETS}


def store_medians(records, recipe, store):
    """Put the median DEC ACC of ``recipe`` per data set in ``store[recipe, d]`` and over all
    its runs in ``store[recipe, "all"]``; return :func:`runs_by_set`'s runs and per_set."""
    runs, per_set = runs_by_set(records, recipe)
    for d in SETS:
        store[recipe, d] = float(np.median([r["dec_acc"] for r in per_set[d]]))
    store[recipe, "all"] = float(np.median([r["dec_acc"] for r in runs]))
    return runs, per_set


med, gain, cpu = {}, {}, {}
for recipe in ("adam", "sgd-lr8"):
    runs, per_set = store_medians(study, recipe, med)
    for d in SETS:
        here = per_set[d]
        accs = [r["dec_acc"] for r in here]
        gain[recipe, d] = [round(r["dec_acc"] - r["ae_kmeans_acc"], 3) for r in here]
        print(f"{recipe:>7} {d:>13}: DEC ACC seeds {[r['seed'] for r in here]} {accs}, "
              f"median {med[recipe, d]:.3f}; gain over AE + k-means {gain[recipe, d]}")
    cpu[recipe] = float(np.median([r["cpu_s"] for r in runs]))
    print(f"{recipe:>7}  all {len(runs)} runs: median DEC ACC {med[recipe, 'all']:.3f}, "
          f"median CPU time {cpu[recipe]:.0f} s")
claim("Over all nine runs SGD with momentum has the higher median DEC accuracy.",
      med["sgd-lr8", "all"] > med["adam", "all"], sgd=med["sgd-lr8", "all"], adam=med["adam", "all"])
claim("On MNIST-10k and USPS the two medians are within 1 point of each other.",
      all(abs(med["sgd-lr8", d] - med["adam", d]) < 0.01 for d in SETS[:2]))
claim("On Fashion-MNIST SGD's median is more than 2 points below Adam's, so the rule keeps Adam.",
      med["sgd-lr8", "fashion-mnist"] < med["adam", "fashion-mnist"] - 0.02,
      sgd=med["sgd-lr8", "fashion-mnist"], adam=med["adam", "fashion-mnist"])
claim("On Fashion-MNIST DEC gains less than 2 points over its start after SGD pretraining, "
      "more than 4 after Adam on every seed.",
      max(gain["sgd-lr8", "fashion-mnist"]) < 0.02 and min(gain["adam", "fashion-mnist"]) > 0.04)
claim("A run with SGD takes less CPU time than a run with Adam.", cpu["sgd-lr8"] < cpu["adam"],
      sgd=cpu["sgd-lr8"], adam=cpu["adam"])

# %% [markdown]
# What the study shows.  SGD with momentum trains an autoencoder that clusters digits as
# well as Adam's: the medians are within 1 point on MNIST-10k (0.769 against 0.775) and
# USPS (0.761 against 0.764), and over all nine runs SGD's median is the higher one (0.761
# against 0.738: Adam's weakest digit runs are weaker).  A run also costs about two thirds
# of Adam's CPU time (median 632 s against 970 s; the runs went two at a time, some beside
# other work, so read the times as rough), since Adam's update passes over every weight
# several more times per step.  But on Fashion-MNIST DEC started from SGD's autoencoder
# hardly moves: AE + k-means starts it as well as Adam's does (0.475 to 0.481, Adam 0.458
# to 0.491), and DEC ends at 0.483 to 0.490, a gain of about 1 point after 5,000 to 5,900
# iterations, against 5 to 6.5 points after Adam.  Being 4.2 points below Adam there, SGD
# is out by the rule, and `adam` stayed the default, the one candidate that is nowhere far
# behind.  Neither reaches what the project asks of its default on this machine (medians
# 0.84 on MNIST-10k, 0.77 on USPS, 0.59 on Fashion-MNIST).  `schedule="sgd"` stays
# available by name.
#
# **What changed the default: the data, not the optimiser.**  A digit drawn two pixels to
# the left is still the same digit, but to an autoencoder that reconstructs pixels it is
# another input; nothing in 8,000 steps on 10,000 fixed images teaches it otherwise.  The
# candidate `adam-shift` is `adam` with every image of every pretraining batch shifted at
# random by up to 10% of its side along each axis (3 pixels on 28 x 28, 2 on 16 x 16;
# `dec_np.augment.random_shift`, zeros fill in), the autoencoder reconstructing the shifted
# image from itself.  Clustering sees the images as they are.  Same protocol, same machine,
# nine runs (docs/defaults-study.md round 9), and the same rule over the three recipes:

# %%
recipe = "adam-shift"
runs, per_set = store_medians(study, recipe, med)
for d in SETS:
    here = per_set[d]
    print(f"{recipe:>10} {d:>13}: DEC ACC seeds {[r['seed'] for r in here]} "
          f"{[r['dec_acc'] for r in here]}, median {med[recipe, d]:.3f} "
          f"(adam {med['adam', d]:.3f})")
cpu[recipe] = float(np.median([r["cpu_s"] for r in runs]))
print(f"{recipe:>10}  all {len(runs)} runs: median DEC ACC {med[recipe, 'all']:.3f}, "
      f"median CPU time {cpu[recipe]:.0f} s")
# the rule: out if more than 2 points below the best median on any data set; among the
# rest the best median over all nine, unless an SGD recipe is within 1 point of it
CANDIDATES = {"adam": False, "sgd-lr8": True, "adam-shift": False}  # name: uses SGD
best = {d: max(med[r, d] for r in CANDIDATES) for d in SETS}
kept = [r for r in CANDIDATES if all(med[r, d] >= best[d] - 0.02 for d in SETS)]
top = max(kept, key=lambda r: med[r, "all"])
near = [r for r in kept if CANDIDATES[r] and med[r, "all"] >= med[top, "all"] - 0.01]
pick = max(near, key=lambda r: med[r, "all"]) if near else top
print("best median per data set:", best, "| kept by the rule:", kept, "| chosen:", pick)
claim("With the shifts the median DEC accuracy is higher on each of the three data sets.",
      all(med["adam-shift", d] > med["adam", d] for d in SETS))
claim("A run with the shifts costs less than 15% more CPU time than one without.",
      cpu["adam-shift"] < 1.15 * cpu["adam"], shifted=cpu["adam-shift"], plain=cpu["adam"])
sgd_shift = [r for r in study if r["recipe"] == "sgd-shift" and r["dataset"] == "fashion-mnist"]
for r in sgd_shift:
    print(f"sgd-shift fashion-mnist seed {r['seed']}: AE + k-means {r['ae_kmeans_acc']:.3f}, "
          f"DEC {r['dec_acc']:.3f} after {r['n_iter']} iterations")
claim("SGD with the same shifts, on the seed of Fashion-MNIST it ran, ends below SGD without "
      "them.", len(sgd_shift) == 1 and sgd_shift[0]["dec_acc"] < min(
          r["dec_acc"] for r in study if r["recipe"] == "sgd-lr8" and r["dataset"] == "fashion-mnist"))
claim("The rule keeps only adam-shift and chooses it; it meets the MNIST-10k (0.84) and USPS "
      "(0.77) targets but not Fashion-MNIST's (0.59).",
      kept == ["adam-shift"] and pick == "adam-shift" and med["adam-shift", "mnist-test"] >= 0.84
      and med["adam-shift", "usps"] >= 0.77 and med["adam-shift", "fashion-mnist"] < 0.59,
      medians={d: med["adam-shift", d] for d in SETS})

# %% [markdown]
# The shifts lift every data set, digits most: the median goes from 0.775 to 0.871 on
# MNIST-10k and from 0.764 to 0.802 on USPS, at about the same CPU time (median 1,053 s
# against 970 s; the shift of a batch costs little beside its matrix products).  Clothes gain least (0.531 to 0.544); what tells
# a shirt from a pullover is its shape rather than its position, which may be why shifts
# help less there (not tested).  The rule
# keeps `adam-shift` alone, so it became the default (`DEC(..., image_shape=(28, 28))`; data
# not declared as images are never shifted), until round 11 below.  The design's
# optimiser did not come back with the shifts either: `sgd` with the same shifts on one seed
# of Fashion-MNIST started DEC from AE + k-means 0.363 and ended at 0.268 after the full
# 20,000 iterations, far below `sgd` without them (0.483 to 0.490); why is open (exercise 7
# at the end asks about SGD on clothes).
#
# **The design's optimiser the paper's way, with the shifts.**  `b64-shift` is the paper's
# layer-wise method as the package runs it on a CPU budget (`b64-steps`: denoising pairs
# with 20% dropout, 6,000 steps per depth, then 16,000 steps of fine-tuning, SGD with
# momentum 0.9 throughout, batch 64) with `adam-shift`'s shifts in its fine-tuning stage.
# Its nine runs went on another machine, a 2-core AMD EPYC (docs/defaults-study.md round
# 10), and `adam-shift` ran there too on the seeds listed, so the two are compared where
# they ran side by side:

# %%
epyc = [json.loads(line) for line in (results / "recipes_epyc.jsonl").read_text().splitlines()
        if line.strip()]
mde = {}
for recipe in ("adam-shift", "b64-shift"):
    runs, per_set = store_medians(epyc, recipe, mde)
    for d in SETS:
        here = per_set[d]
        print(f"EPYC {recipe:>10} {d:>13}: DEC ACC seeds {[r['seed'] for r in here]} "
              f"{[round(r['dec_acc'], 3) for r in here]}, median {mde[recipe, d]:.3f}")
    print(f"EPYC {recipe:>10}  all {len(runs)} runs: median DEC ACC {mde[recipe, 'all']:.3f}")
claim("On Fashion-MNIST b64-shift's median is more than 2 points above adam-shift's, on the "
      "EPYC and against the Xeon's nine-run study alike.",
      mde["b64-shift", "fashion-mnist"] > max(mde["adam-shift", "fashion-mnist"],
                                              med["adam-shift", "fashion-mnist"]) + 0.02,
      b64_shift=mde["b64-shift", "fashion-mnist"], adam_shift=mde["adam-shift", "fashion-mnist"])
claim("On MNIST-10k b64-shift's median is more than 2 points below adam-shift's, on the EPYC "
      "and against the Xeon's study alike.",
      mde["b64-shift", "mnist-test"] < min(mde["adam-shift", "mnist-test"],
                                           med["adam-shift", "mnist-test"]) - 0.02,
      b64_shift=mde["b64-shift", "mnist-test"], adam_shift=mde["adam-shift", "mnist-test"])
claim("On USPS b64-shift's median is between 1 and 2 points below adam-shift's, on the EPYC "
      "and against the Xeon's study alike.",
      all(0.01 < m["adam-shift", "usps"] - mde["b64-shift", "usps"] < 0.02 for m in (mde, med)))
claim("adam-shift's median over all its runs on the EPYC is higher than b64-shift's by more "
      "than 1 point.", mde["adam-shift", "all"] > mde["b64-shift", "all"] + 0.01)
plain = next(r for r in epyc if r["recipe"] == "b64-steps" and r["dataset"] == "fashion-mnist")
shifted = next(r for r in epyc if r["recipe"] == "b64-shift" and r["dataset"] == "fashion-mnist"
               and r["seed"] == plain["seed"])
print(f"EPYC b64-steps (no shifts) fashion-mnist seed {plain['seed']}: DEC ACC "
      f"{plain['dec_acc']:.3f} (b64-shift {shifted['dec_acc']:.3f})")
claim("Without the shifts the layer-wise recipe ends higher on that Fashion-MNIST seed.",
      plain["dec_acc"] > shifted["dec_acc"])

# %% [markdown]
# The paper's layer-wise SGD gives the best Fashion-MNIST median of the recipes run on all
# three data sets: 0.571 (seeds 0.564, 0.571, 0.604), 2.7 to 2.8 points above `adam-shift`
# (0.543 on the EPYC, 0.544 on the Xeon).  But it gives back 2.8 to 3.2 points on MNIST-10k
# (0.843 against 0.871 on the Xeon and 0.876 on the EPYC for `adam-shift`) and 1.3 to 1.4 on
# USPS (0.788 against 0.800 and 0.802), so each of the two is more than 2 points behind the other on one data set and the
# rule, taken literally, keeps neither.  The default stayed `adam-shift`: it has the better
# median over all runs (the rule's first criterion), and the SGD recipe is more than 1 point
# below it there, outside the margin by which the rule would prefer
# SGD.  What neither does is reach 0.59 on Fashion-MNIST by its median; the layer-wise
# pairs may be what clothes need (without shifts `b64-steps` reached 0.584 on seed 0 there,
# one run), and digits the shifts.
#
# **Both, one stage each (round 11).**  `dae-adam-shift` runs `b64-steps`' layer-wise
# stage (the denoising pairs of tutorial 04, SGD with momentum, 6,000 steps per depth at
# batch 64) and then, from those weights, `adam-shift`'s fine-tuning (Adam, 8,000 steps of
# batch 256, shifted images; for at least 44 epochs, which on more than 46,336 images is
# more than 8,000 steps and leaves these 10,000-image runs as they are).  Same EPYC, same
# seeds, the same rule over the three recipes that ran on all three data sets there:

# %%
recipe = "dae-adam-shift"
runs, per_set = store_medians(epyc, recipe, mde)
for d in SETS:
    here = per_set[d]
    print(f"EPYC {recipe:>14} {d:>13}: DEC ACC seeds {[r['seed'] for r in here]} "
          f"{[round(r['dec_acc'], 3) for r in here]}, median {mde[recipe, d]:.4f} "
          f"(adam-shift {mde['adam-shift', d]:.4f})")
print(f"EPYC {recipe:>14}  all {len(runs)} runs: median DEC ACC {mde[recipe, 'all']:.4f}")
cpu_e = {r: float(np.median([x["cpu_s"] for x in runs_by_set(epyc, r)[0]]))
         for r in ("adam-shift", "dae-adam-shift")}
print("EPYC median CPU time per run:", {r: round(c) for r, c in cpu_e.items()})
EPYC_CANDIDATES = {"adam-shift": False, "b64-shift": True, "dae-adam-shift": False}
best_e = {d: max(mde[r, d] for r in EPYC_CANDIDATES) for d in SETS}
kept_e = [r for r in EPYC_CANDIDATES if all(mde[r, d] >= best_e[d] - 0.02 for d in SETS)]
print("EPYC best median per data set:", best_e, "| kept by the rule:", kept_e)
claim("On Fashion-MNIST dae-adam-shift's median is the best of the three, more than 4 points "
      "above adam-shift's and more than 1 above b64-shift's.",
      mde["dae-adam-shift", "fashion-mnist"] > mde["adam-shift", "fashion-mnist"] + 0.04
      and mde["dae-adam-shift", "fashion-mnist"] > mde["b64-shift", "fashion-mnist"] + 0.01)
claim("On MNIST-10k and USPS it is below adam-shift, but by less than 2 points.",
      all(0 < mde["adam-shift", d] - mde["dae-adam-shift", d] < 0.02 for d in SETS[:2]))
claim("The rule keeps dae-adam-shift alone, which made it the default in round 11; it meets the "
      "MNIST-10k (0.84) and USPS (0.77) targets, and misses Fashion-MNIST's 0.59 by less "
      "than half a point.",
      kept_e == ["dae-adam-shift"] and mde["dae-adam-shift", "mnist-test"] >= 0.84
      and mde["dae-adam-shift", "usps"] >= 0.77
      and 0.585 < mde["dae-adam-shift", "fashion-mnist"] < 0.59)
claim("A dae-adam-shift run takes more CPU time than an adam-shift run, less than twice as "
      "much.", cpu_e["adam-shift"] < cpu_e["dae-adam-shift"] < 2 * cpu_e["adam-shift"])

# %% [markdown]
# The layer-wise start keeps most of what it gave clothes: the Fashion-MNIST median rises
# from 0.543 with `adam-shift` to 0.5875 (seeds 0.540, 0.5875, 0.590), above `b64-shift`'s
# 0.571, while Adam's fine-tuning with the shifts keeps most of what they gave digits:
# 0.862 on MNIST-10k (1.4 points below `adam-shift`) and 0.795 on USPS (0.5 below).  It is
# the only recipe of the three within 2 points of the best on every data set, so the rule
# chose it: `dae-adam-shift` was the package's default from round 11 to round 15.  It
# uses Adam, so it is not the design's optimiser throughout: SGD with momentum trains its
# layer-wise stage.  The one SGD-only recipe, `b64-shift`, is within 1 point of it over all
# nine runs (0.788) but out of the rule on MNIST-10k, so the preference for SGD does not
# apply.  It costs about half as
# much again as `adam-shift` (median CPU time 1,023 s against 689 s per run, two runs at a
# time), and its Fashion-MNIST median is still 0.25 point short of the 0.59 the project
# asks for.
#
# That median is one machine's.  The same three Fashion-MNIST seeds of `dae-adam-shift` on
# the Xeon of section 4 (round 14, same command, one BLAS thread, two runs at a time):

# %%
xeon_f = sorted((r for r in study if r["recipe"] == "dae-adam-shift"
                 and r["dataset"] == "fashion-mnist"), key=lambda r: r["seed"])
epyc_f = runs_by_set(epyc, "dae-adam-shift")[1]["fashion-mnist"]
xeon_med = float(np.median([r["dec_acc"] for r in xeon_f]))
print(f"Xeon dae-adam-shift fashion-mnist: DEC ACC seeds {[r['seed'] for r in xeon_f]} "
      f"{[round(r['dec_acc'], 4) for r in xeon_f]}, median {xeon_med:.4f}; AE + k-means "
      f"{[round(r['ae_kmeans_acc'], 3) for r in xeon_f]}")
both_f = [r["dec_acc"] for r in xeon_f + epyc_f]
print(f"both machines, {len(both_f)} runs: median {np.median(both_f):.4f}, "
      f"min {min(both_f):.4f}, max {max(both_f):.4f}")
claim("On the Xeon dae-adam-shift's Fashion-MNIST median over the same seeds is below 0.55, and "
      "over the six runs of both machines below 0.57: neither machine reaches 0.59.",
      [r["seed"] for r in xeon_f] == [0, 1, 2] and xeon_med < 0.55 and np.median(both_f) < 0.57
      and mde["dae-adam-shift", "fashion-mnist"] < 0.59)

# %% [markdown]
# Seed 1 ends where it ended on the EPYC (0.5876 against 0.590), seeds 0 and 2 about 5 and
# 1 points lower (0.539 and 0.526): a seed's Fashion-MNIST result moves by as much as the
# recipes differ, and on six runs `dae-adam-shift`'s median is 0.564.  Reaching 0.59 on clothes
# needs something else.
#
# **Adam at a lower rate (round 15).**  Look at the starting partitions: the layer-wise stage
# alone gives Fashion-MNIST a better start than Adam does (section 6's `b64` recipes begin
# DEC from AE + k-means 0.54 to 0.58), and 8,000 steps of Adam at lr 0.001 move the weights
# far enough from it that `dae-adam-shift` starts from 0.49 to 0.55 on the Xeon.  A smaller
# learning rate moves them less far while the shifts still act on every batch.  The same
# recipe with Adam at lr 0.0003 and 0.0005 (`dae-adam3e4-shift`, `dae-adam5e4-shift`), on the
# three sets, three seeds, on the Xeon of section 4; `dae-adam-shift` ran there on MNIST-10k
# and Fashion-MNIST (not on USPS), and a screen at lr 0.0001 on two Fashion-MNIST seeds:

# %%
mdx, kx = {}, {}
for recipe in ("adam-shift", "dae-adam-shift", "dae-adam3e4-shift", "dae-adam5e4-shift",
               "dae-adam1e4-shift"):
    runs, per_set = runs_by_set(study, recipe)
    for d in SETS:
        if per_set[d]:
            mdx[recipe, d] = float(np.median([r["dec_acc"] for r in per_set[d]]))
            kx[recipe, d] = float(np.median([r["ae_kmeans_acc"] for r in per_set[d]]))
            print(f"Xeon {recipe:>17} {d:>13}: DEC ACC seeds {[r['seed'] for r in per_set[d]]} "
                  f"{[round(r['dec_acc'], 4) for r in per_set[d]]}, median {mdx[recipe, d]:.4f}; "
                  f"AE + k-means median {kx[recipe, d]:.4f}")
# the rule over the recipes that ran all nine runs on the Xeon (rounds 8, 9 and 15)
full_x = [r for r in ("adam", "sgd-lr8", "adam-shift", "dae-adam3e4-shift", "dae-adam5e4-shift")
          if all(len(runs_by_set(study, r)[1][d]) == 3 for d in SETS)]
for r in ("adam", "sgd-lr8"):  # round 8's two, not printed above
    store_medians(study, r, mdx)
best_x = {d: max(mdx[r, d] for r in full_x) for d in SETS}
kept_x = [r for r in full_x if all(mdx[r, d] >= best_x[d] - 0.02 for d in SETS)]
print("Xeon recipes with nine runs:", full_x, "| best median per data set:",
      {d: round(v, 4) for d, v in best_x.items()}, "| kept by the rule:", kept_x)
new_d = "dae-adam5e4-shift"
b64_k = [r["ae_kmeans_acc"] for r in epyc if r["dataset"] == "fashion-mnist"
         and r["recipe"] in ("b64-shift", "b64-steps")]
dflt_k = [r["ae_kmeans_acc"] for r in xeon_f]
claim("The b64 recipes start Fashion-MNIST from AE + k-means 0.54 to 0.58, dae-adam-shift on "
      "the Xeon from 0.49 to 0.55; medians 0.508 there, 0.577 for dae-adam5e4-shift.",
      0.535 <= min(b64_k) and max(b64_k) < 0.585 and 0.485 <= min(dflt_k)
      and max(dflt_k) < 0.555 and round(kx["dae-adam-shift", "fashion-mnist"], 3) == 0.508
      and round(kx[new_d, "fashion-mnist"], 3) == 0.577)
claim("On Fashion-MNIST both lower rates start DEC more than 5 points higher than "
      "dae-adam-shift (AE + k-means medians).",
      min(kx["dae-adam3e4-shift", "fashion-mnist"], kx[new_d, "fashion-mnist"])
      > kx["dae-adam-shift", "fashion-mnist"] + 0.05)
claim("dae-adam5e4-shift has the best Fashion-MNIST median, above 0.59.",
      mdx[new_d, "fashion-mnist"] >= 0.59 and all(
          mdx[new_d, "fashion-mnist"] > mdx[r, "fashion-mnist"]
          for r in ("adam-shift", "dae-adam-shift", "dae-adam3e4-shift")))
claim("On MNIST-10k it is 1 to 2 points below dae-adam-shift and adam-shift; lr 0.0003 is "
      "more than 2 points below adam-shift.",
      all(0.01 < mdx[r, "mnist-test"] - mdx[new_d, "mnist-test"] < 0.02
          for r in ("adam-shift", "dae-adam-shift"))
      and mdx["adam-shift", "mnist-test"] - mdx["dae-adam3e4-shift", "mnist-test"] > 0.02)
claim("lr 0.0001 ends below lr 0.0003 on both Fashion-MNIST seeds it ran.",
      all(a["dec_acc"] < b["dec_acc"] for a, b in zip(
          runs_by_set(study, "dae-adam1e4-shift")[1]["fashion-mnist"],
          [r for r in runs_by_set(study, "dae-adam3e4-shift")[1]["fashion-mnist"]
           if r["seed"] in (0, 2)])))
claim("It is 1.7 points below dae-adam-shift on MNIST-10k and 0.2 below adam-shift on USPS.",
      round(mdx["dae-adam-shift", "mnist-test"] - mdx[new_d, "mnist-test"], 3) == 0.017
      and round(mdx["adam-shift", "usps"] - mdx[new_d, "usps"], 3) == 0.002)
claim("The rule keeps dae-adam5e4-shift alone, and it meets the three targets (0.84, 0.77, "
      "0.59).",
      kept_x == [new_d] and mdx[new_d, "mnist-test"] >= 0.84 and mdx[new_d, "usps"] >= 0.77
      and mdx[new_d, "fashion-mnist"] >= 0.59)

# %% [markdown]
# Halving Adam's rate lifts Fashion-MNIST from 0.539 to 0.603 on the Xeon (seeds 0.591,
# 0.603, 0.610) and costs 1.7 points on MNIST-10k (0.852 against 0.869) and 0.2 on USPS
# against `adam-shift`.  The starting partition moves with it: AE + k-means on clothes rises
# from 0.508 to 0.577.  At lr 0.0003 digits lose more (MNIST-10k 0.847, out of the rule), and
# at lr 0.0001 clothes lose again: the fine-tuning still has to fit the shifted images.
#
# The rule keeps `dae-adam5e4-shift` alone.  A default must also hold on all 70,000 MNIST
# images (median at least 0.88 over five seeds, none below 0.85), so it ran there too, on the
# same Xeon (`docs/results/mnist70k_cpu.jsonl`), beside the default's five seeds of round 13:

# %%
big = [json.loads(line) for line in (results / "mnist70k_cpu.jsonl").read_text().splitlines()
       if line.strip()]
slow = [r for r in big if r["recipe"] == new_d]
# the default's five Xeon seeds of round 13 (the lines with its 44-epoch floor)
dflt = [r for r in big if r["recipe"] == "dae-adam-shift" and "Xeon" in r["machine"]
        and r["schedule"]["finetune"].get("min_epochs") == 44]
slow70 = {r["seed"]: r["dec_acc"] for r in slow}
dflt70 = {r["seed"]: r["dec_acc"] for r in dflt}
print(f"Xeon MNIST-70k {new_d}: DEC ACC per seed {dict(sorted(slow70.items()))}")
print(f"Xeon MNIST-70k dae-adam-shift: DEC ACC per seed {dict(sorted(dflt70.items()))}")
claim("On MNIST-70k dae-adam5e4-shift ends below 0.88 on three of its four seeds (0.868 to "
      "0.877), so its median over five cannot reach 0.88; its seed 3 is the best MNIST-70k "
      "run on record.",
      len(slow70) == 4 and 0.8675 <= min(slow70.values())
      and sorted(slow70.values())[2] < 0.8775 < 0.88 <= sorted(slow70.values())[3]
      and slow70[3] == max(r["dec_acc"] for r in big))
first3 = (0, 1, 2)
slow70_k = {r["seed"]: r["ae_kmeans_acc"] for r in slow}
dflt70_k = [r["ae_kmeans_acc"] for r in dflt]
drop70 = [dflt70[k] - slow70[k] for k in first3]
print(f"AE + k-means: {new_d} {dict(sorted((k, round(a, 3)) for k, a in slow70_k.items()))}, "
      f"dae-adam-shift median {np.median(dflt70_k):.3f}; DEC below dae-adam-shift on seeds 0-2 "
      f"by {[round(d, 3) for d in drop70]}, seed 3 {slow70[3] - dflt70[3]:+.3f}")
claim("On seeds 0 to 2 its AE + k-means is 0.820 to 0.825 against a median of 0.844 at lr "
      "0.001, and DEC ends 0.5 to 8.1 points below dae-adam-shift; seed 3 starts from 0.872 "
      "and ends 4.4 points above it.",
      all(0.8195 <= slow70_k[k] < 0.8255 for k in first3)
      and round(np.median(dflt70_k), 3) == 0.844
      and 0.005 <= min(drop70) and max(drop70) < 0.0815
      and round(slow70_k[3], 3) == 0.872 and round(slow70[3] - dflt70[3], 3) == 0.044)

# %% [markdown]
# On 70,000 images the Adam stage runs 44 epochs, not 205, and at half the rate it leaves
# the autoencoder short on three seeds of four: DEC ends at 0.868 to 0.877 there, while seed
# 3 reaches 0.966, the best MNIST-70k run measured.  A median of at least 0.88 over five
# seeds is out of reach: the round-15 recipe wins the study and fails the larger check, and
# `dae-adam-shift` stayed the default.  One rate did not serve both sizes.
#
# **One rule for both sizes (round 16).**  Count the Adam stage in passes over the data.  At
# batch B an epoch of n rows is `ceil(n / B)` steps, so a stage of S steps is
# `E = S / ceil(n / B)` epochs: 8,000 steps are 200 epochs of 10,000 rows (40 batches an
# epoch), and the floor's 12,056 steps are 44 epochs of 70,000 rows (274 batches).  Each
# pass shows every image once, and Adam moves every weight by about lr per step whatever
# the scale of its gradient (section 5), so `lr * E` measures how far the stage can pull
# the weights towards each image, and so away from the layer-wise start.  The two rates
# that served each size:
#
# | rows | epochs E | rate kept | lr x E |
# |---|---|---|---|
# | 10,000 | 200 | 0.0005 (round 15: the best Fashion-MNIST median) | 0.1 |
# | 70,000 | 44 | 0.001 (round 13: median 0.922 over five seeds) | 0.044 |
#
# A cap on the product gives both.  Keep Adam's usual lr while `lr * E <= 0.001 * 100`, and
# above that lower the rate until the product is at the cap:
#
#     rate = lr * min(1, lr_epochs / E),   E = S / ceil(n / B),   lr = 0.001, lr_epochs = 100
#
# On 10,000 rows `E = 200` and `rate = 0.001 * 100 / 200 = 0.0005`, round 15's rate; on
# 70,000 `E = 44 < 100` and the rate stays 0.001, round 13's.  The 100 is fitted to those
# two points, not derived: any cap from 44 to 100 epochs leaves 70,000 rows at 0.001, and
# only 100 gives 10,000 rows 0.0005.  With 8,000 steps the cap acts while `E > 100`, i.e.
# while an epoch is fewer than 80 batches: up to 79 x 256 = 20,224 rows.  The floor acts
# from the other side: above 181 x 256 = 46,336 rows, 44 epochs are more than 8,000 steps.
# In the package this is `finetune(..., lr_epochs=100)` (`dec_np.autoencoder.capped_lr`),
# and `dae-adam-cap-shift`, `dae-adam-shift` with the cap, is the default (`DEC()`,
# `dec_np.schedules.DEFAULT`).
#
# **Exercise 3.** Write `adam_stage`: the steps and the rate of the Adam stage on n rows,
# the floor first (`steps = max(iterations, ceil(min_epochs * ceil(n / batch_size)))`),
# then the cap.  The check compares it with the package's `steps_with_min_epochs` and
# `capped_lr` on eight sizes, from the 1,797 digits to MNIST's 70,000 and on both sides of
# 20,224 and 46,336 rows (**below 1e-12**).

# %%
@exercise
def adam_stage(n, iterations, batch_size, lr, min_epochs, lr_epochs):
    """The steps and the rate of the default's Adam stage on ``n`` rows.

    Parameters
    ----------
    n : int, the number of rows (images)
    iterations : int, the stage's steps before the floor (8,000)
    batch_size : int, rows per step (256)
    lr : float, Adam's rate before the cap (0.001)
    min_epochs : float, the floor on the passes over the data (44)
    lr_epochs : float, the cap on lr x epochs, in epochs at ``lr`` (100)

    Returns
    -------
    steps : int, ``max(iterations, ceil(min_epochs * ceil(n / batch_size)))``
    rate : float, ``lr * min(1, lr_epochs / E)`` with ``E = steps / ceil(n / batch_size)``
    """
    # YOUR CODE HERE (four or five lines; an epoch is ceil(n / batch_size) batches)
    raise NotImplementedError("adam_stage: the floor on the steps, then the cap on the rate")
    # END OF YOUR CODE


STAGE = {k: SCHEDULES[DEFAULT]["finetune"][k]
         for k in ("iterations", "batch_size", "lr", "min_epochs", "lr_epochs")}
SIZES = {"digits": 1797, "USPS": 9298, "MNIST-10k": 10000, "20,224 rows": 20224,
         "20,225 rows": 20225, "46,336 rows": 46336, "46,337 rows": 46337, "MNIST-70k": 70000}


def package_stage(n):
    """The package's steps and rate of the default's Adam stage on n rows."""
    steps = steps_with_min_epochs(n, STAGE["iterations"], STAGE["batch_size"],
                                  STAGE["min_epochs"])
    per_epoch = -(-n // STAGE["batch_size"])
    return steps, capped_lr(STAGE["lr"], steps / per_epoch, STAGE["lr_epochs"])


check("adam_stage: steps and rate on eight sizes",
      lambda: {k: adam_stage(n, **STAGE) for k, n in SIZES.items()},
      {k: package_stage(n) for k, n in SIZES.items()}, rtol=1e-12,
      against="dec_np.autoencoder.steps_with_min_epochs and capped_lr")
print(f"the default {DEFAULT!r}, Adam stage: {STAGE}")
stage = {k: package_stage(n) for k, n in SIZES.items()}
for k, n in SIZES.items():
    steps, rate = stage[k]
    E = steps / -(-n // STAGE["batch_size"])
    print(f"{k:>12}: {n:6,d} rows, {steps:6,d} steps = {E:7.2f} epochs, lr {rate:.7g}, "
          f"lr x epochs {rate * E:.3f}")
claim("The package's default is dae-adam-cap-shift: 8,000 Adam steps of batch 256 at lr "
      "0.001, at least 44 epochs, lr x epochs capped at 0.001 x 100.",
      DEFAULT == "dae-adam-cap-shift" and STAGE == {"iterations": 8000, "batch_size": 256,
                                                    "lr": 0.001, "min_epochs": 44,
                                                    "lr_epochs": 100})
claim("On 10,000 rows the rule gives lr 0.0005 for 8,000 steps, on 70,000 lr 0.001 for "
      "12,056 steps.",
      stage["MNIST-10k"] == (8000, 0.0005) and stage["MNIST-70k"] == (12056, 0.001))
claim("20,224 rows still get a rate below 0.001, 20,225 rows get 0.001; 46,336 rows get "
      "8,000 steps, 46,337 rows more.",
      stage["20,224 rows"][1] < 0.001 == stage["20,225 rows"][1]
      and stage["46,336 rows"][0] == 8000 < stage["46,337 rows"][0])
claim("The 1,797 digits get lr 0.0001 (1,000 epochs), USPS's 9,298 images 0.0004625 "
      "(216 epochs).",
      abs(stage["digits"][1] - 1e-4) < 1e-15 and abs(stage["USPS"][1] - 4.625e-4) < 1e-15)

# %% [markdown]
# On two of the three sets the rule runs what was already measured: on MNIST-10k and
# Fashion-MNIST-10k it is `dae-adam5e4-shift`, and on all 70,000 MNIST images
# `dae-adam-shift`.  USPS's 9,298 images get a rate of their own.  So the nine runs and the
# five 70,000-image seeds of the default, on the Xeon of section 4 (one BLAS thread each,
# two runs at a time), should repeat the earlier runs to the last digit where the rate and
# the steps are the same.  They do:

# %%
cap = DEFAULT
runs_c, per_c = store_medians(study, cap, mdx)
store_medians(study, new_d, mdx)
for d in SETS:
    print(f"Xeon {cap} {d:>13}: DEC ACC seeds {[r['seed'] for r in per_c[d]]} "
          f"{[round(r['dec_acc'], 4) for r in per_c[d]]}, median {mdx[cap, d]:.4f}; "
          f"AE + k-means {[round(r['ae_kmeans_acc'], 4) for r in per_c[d]]}")
print(f"Xeon {cap}  all {len(runs_c)} runs: median DEC ACC {mdx[cap, 'all']:.4f} "
      f"({new_d}: {mdx[new_d, 'all']:.4f})")
RECORDED = ("ae_kmeans_acc", "dec_acc", "dec_nmi", "n_iter")


def same_run(a, b):
    """Whether two records hold the same run: seed, start, end and iterations all equal."""
    return a["seed"] == b["seed"] and all(a[k] == b[k] for k in RECORDED)


per_5 = runs_by_set(study, new_d)[1]
twins = {d: [same_run(a, b) for a, b in zip(per_c[d], per_5[d])] for d in SETS}
print(f"the same run as {new_d}, seed for seed:", twins)
claim("On MNIST-10k and Fashion-MNIST-10k each of the three runs is dae-adam5e4-shift's run "
      "of the same seed, to the last recorded digit; on USPS none is.",
      twins["mnist-test"] == twins["fashion-mnist"] == [True] * 3
      and twins["usps"] == [False] * 3)
usps_gap = {r: mdx[r, "usps"] - mdx[cap, "usps"] for r in (new_d, "adam-shift")}
print("USPS medians above the default's, in points:",
      {r: round(100 * g, 2) for r, g in usps_gap.items()})
claim("On USPS, at lr 0.0004625, the median is 0.792: 0.8 point below dae-adam5e4-shift's and "
      "1.0 below adam-shift's, the best there, and above the 0.77 target.",
      round(mdx[cap, "usps"], 3) == 0.792 and round(100 * usps_gap[new_d], 1) == 0.8
      and round(100 * usps_gap["adam-shift"], 1) == 1.0 and mdx[cap, "usps"] >= 0.77)
# the rule, now with the MNIST-70k check: fails once a run is below 0.85 or three are below
# 0.88 (the median of five cannot reach it); passes with five runs, median >= 0.88
full_16 = full_x + [cap]
best_16 = {d: max(mdx[r, d] for r in full_16) for d in SETS}
kept_16 = [r for r in full_16 if all(mdx[r, d] >= best_16[d] - 0.02 for d in SETS)]
accs70 = {r: [x["dec_acc"] for x in big if x["recipe"] == r] for r in kept_16}
check70 = {r: "fails" if min(a) < 0.85 or sum(v < 0.88 for v in a) > 2 else
           "passes" if len(a) >= 5 and np.median(a) >= 0.88 else "incomplete"
           for r, a in accs70.items()}
pick_16 = max((r for r in kept_16 if check70[r] == "passes"), key=lambda r: mdx[r, "all"])
print("kept by the rule:", kept_16, "| MNIST-70k check:", check70, "| chosen:", pick_16)
claim("The rule keeps dae-adam5e4-shift and dae-adam-cap-shift; the first fails the MNIST-70k "
      "check, the second passes it and is chosen, with the lower nine-run median (0.792 "
      "against 0.800).",
      kept_16 == [new_d, cap] and check70 == {new_d: "fails", cap: "passes"} and pick_16 == cap
      and round(mdx[cap, "all"], 3) == 0.792 and round(mdx[new_d, "all"], 3) == 0.800)
cap70 = {r["seed"]: r for r in big if r["recipe"] == cap}
dflt70_r = {r["seed"]: r for r in dflt}
for k in sorted(cap70):
    r = cap70[k]
    print(f"Xeon MNIST-70k {cap} seed {k}: AE + k-means {r['ae_kmeans_acc']:.4f} -> DEC "
          f"{r['dec_acc']:.4f} ({r['blas_threads']} BLAS thread); dae-adam-shift "
          f"{dflt70_r[k]['dec_acc']:.4f} ({dflt70_r[k]['blas_threads']})")
a70 = [cap70[k]["dec_acc"] for k in sorted(cap70)]
print(f"five seeds: median {np.median(a70):.4f}, min {min(a70):.4f}, max {max(a70):.4f}")
claim("On MNIST-70k seeds 0 to 3 are dae-adam-shift's runs of the same seeds to the last "
      "recorded digit: the same steps at the same rate.",
      all(same_run(cap70[k], dflt70_r[k]) for k in range(4)))
two = {r["seed"]: r for r in map(json.loads, (results / "mnist70k_default_2threads.jsonl")
                                 .read_text().splitlines()) if r["recipe"] == cap}
for k in sorted(two):
    r = two[k]
    print(f"Xeon MNIST-70k {r['recipe']} seed {k} alone, {r['blas_threads']} BLAS threads: "
          f"AE + k-means {r['ae_kmeans_acc']:.4f} -> DEC {r['dec_acc']:.4f}, fit {r['total_s']:.0f} s")
alone = two[4]
claim("Seed 4 at one BLAS thread ends at 0.872, 1.25 points below dae-adam-shift's seed 4, "
      "which ran alone at two threads; the default alone at two threads repeats that run to "
      "the last recorded digit, its fit under 15 minutes.",
      cap70[4]["blas_threads"] == "1" and dflt70_r[4]["blas_threads"] == "2"
      and round(cap70[4]["dec_acc"], 3) == 0.872
      and abs(dflt70_r[4]["dec_acc"] - cap70[4]["dec_acc"] - 0.0125) < 1e-9
      and alone["recipe"] == cap and alone["blas_threads"] == "2"
      and same_run(alone, dflt70_r[4]) and alone["total_s"] < 900)
claim("Over the five seeds the median is 0.922 and the lowest 0.872: at least 0.88, none "
      "below 0.85.",
      sorted(cap70) == [0, 1, 2, 3, 4] and round(float(np.median(a70)), 3) == 0.922
      and round(min(a70), 3) == 0.872)
a2 = [two[k]["dec_acc"] for k in sorted(two)]
print(f"five seeds alone at two threads: median {np.median(a2):.4f}, min {min(a2):.4f}, "
      f"max {max(a2):.4f}; longest fit {max(r['total_s'] for r in two.values()):.0f} s")
claim("Alone at two threads every fit takes under 15 minutes and the median is 0.903, but seed "
      "1 ends at 0.824, below 0.85, from an AE + k-means start of 0.756 (0.844 at one thread).",
      sorted(two) == [0, 1, 2, 3, 4] and all(r["total_s"] < 900 for r in two.values())
      and all(r["blas_threads"] == "2" and r["recipe"] == cap for r in two.values())
      and round(float(np.median(a2)), 3) == 0.903 and round(two[1]["dec_acc"], 3) == 0.824
      and min(a2) == two[1]["dec_acc"] < 0.85 <= sorted(a2)[1]
      and round(two[1]["ae_kmeans_acc"], 3) == 0.756 and round(cap70[1]["ae_kmeans_acc"], 3) == 0.844)
ten = a70 + a2
minutes_1 = [cap70[k]["total_s"] / 60 for k in cap70]
claim("At one thread beside another run a fit takes 16 to 17.5 minutes; over the ten runs seven "
      "reach 0.88 and one stays below 0.85, seed 1 at two threads ending 10 points below seed 1 "
      "at one.",
      16 <= min(minutes_1) and max(minutes_1) < 17.5 and sum(a >= 0.88 for a in ten) == 7
      and sum(a < 0.85 for a in ten) == 1
      and round(100 * (cap70[1]["dec_acc"] - two[1]["dec_acc"])) == 10)

# %% [markdown]
# Why does the thread count change a run at all?  Float32 addition is not associative:
# $(a + b) + c$ and $a + (b + c)$ can differ in the last bit.  A product split between two
# BLAS threads sums its terms in another order than one thread does, so after the first
# step a few weights differ in their last bits, and over the 36,056 pretraining steps on
# 70,000 images (24,000 layer-wise, 12,056 of Adam) that grows into another autoencoder:
# seed 1 starts DEC from 0.756 instead of 0.844.
#
# The cure is to find the parallelism elsewhere, in calls that do not depend on one another,
# and keep BLAS on one thread.  Look at a dense layer's backward pass (tutorial 01):
#
# $$dW = x^\top\, dout, \qquad db = \textstyle\sum_i dout_i, \qquad dx = dout\, W^\top .$$
#
# $dx$ needs neither $dW$ nor $db$, so the two products can run on two threads at once,
# each computing exactly what it computes alone.  So can the pieces of an optimiser's
# update (each weight's update involves that weight only), the 20 k-means restarts once
# their seeds are drawn in turn, and the row blocks of an encoding.  That is
# `dec_np.threads`, which `DEC(n_jobs=...)` uses: with `n_jobs=2` (the default on two
# cores) the five seeds should repeat the one-thread runs above to the last digit, in
# close to the time BLAS's two threads take.  Run alone, one after the other, on the same Xeon:

# %%
jobs2 = {r["seed"]: r for r in map(json.loads, (results / "mnist70k_default_njobs2.jsonl")
                                   .read_text().splitlines()) if r["recipe"] == cap}
for k in sorted(jobs2):
    r = jobs2[k]
    print(f"Xeon MNIST-70k {cap} seed {k} alone, n_jobs={r['n_jobs']}: AE + k-means "
          f"{r['ae_kmeans_acc']:.4f} -> DEC {r['dec_acc']:.4f}, {r['n_iter']} DEC iterations, "
          f"fit {r['total_s']:.0f} s; one BLAS thread: {cap70[k]['dec_acc']:.4f}")
a_j = [jobs2[k]["dec_acc"] for k in sorted(jobs2)]
print(f"five seeds with n_jobs=2: median {np.median(a_j):.4f}, min {min(a_j):.4f}, "
      f"max {max(a_j):.4f}; longest fit {max(r['total_s'] for r in jobs2.values()):.0f} s")
claim("With n_jobs=2 each of the five seeds is the one-thread run of the same seed to the last "
      "recorded digit, and every fit takes under 15 minutes: the check and the time hold in "
      "one setting.",
      sorted(jobs2) == [0, 1, 2, 3, 4]
      and all(same_run(jobs2[k], cap70[k]) and jobs2[k]["n_jobs"] == 2 for k in jobs2)
      and all(r["total_s"] < 900 for r in jobs2.values())
      and round(float(np.median(a_j)), 3) == 0.922 and round(min(a_j), 3) == 0.872)
fit_j = float(np.median([r["total_s"] for r in jobs2.values()]))
fit_b = float(np.median([r["total_s"] for r in two.values()]))
print(f"median fit: n_jobs=2 {fit_j:.0f} s, BLAS's two threads {fit_b:.0f} s "
      f"(ratio {fit_j / fit_b:.3f})")
claim("The median fit with n_jobs=2 is less than 6% longer than with BLAS's two threads (separate runs "
      "at other commits, so the ratio is rough; benchmarks/threads.py times both side "
      "by side).",
      1.0 < fit_j / fit_b < 1.06)
digits = [json.loads(line) for line in (results / "digits_cpu.jsonl").read_text().splitlines()
          if line.strip()]
dig = {}
for recipe in (cap, "dae-adam-shift"):
    here = sorted((r for r in digits if r["recipe"] == recipe), key=lambda r: r["seed"])
    dig[recipe] = [r["dec_acc"] for r in here]
    print(f"Xeon {recipe:>18} digits (1,797): DEC ACC seeds {[r['seed'] for r in here]} "
          f"{dig[recipe]}, median {np.median(dig[recipe]):.4f}")
claim("On the 1,797 digits the cap's median is 0.813, dae-adam-shift's 0.805; the cap is "
      "higher on seeds 1 and 2 and lower on seed 0 (0.853 against 0.870).",
      round(float(np.median(dig[cap])), 3) == 0.813
      and round(float(np.median(dig["dae-adam-shift"])), 3) == 0.805
      and [a > b for a, b in zip(dig[cap], dig["dae-adam-shift"])] == [False, True, True]
      and round(dig[cap][0], 3) == 0.853 and round(dig["dae-adam-shift"][0], 3) == 0.870)
spread = {r: max(a) - min(a) for r, a in dig.items()}
claim("On the digits each recipe's three seeds lie 4 to 9 points apart, wider than the "
      "0.8 point between the medians.",
      0.04 <= min(spread.values()) and max(spread.values()) < 0.095
      and abs(np.median(dig[cap]) - np.median(dig["dae-adam-shift"])) < min(spread.values()))
claim("The default meets the three 10,000-image targets on the Xeon: MNIST-10k 0.852 >= "
      "0.84, USPS 0.792 >= 0.77, Fashion-MNIST-10k 0.603 >= 0.59.",
      [round(mdx[cap, d], 3) for d in SETS] == [0.852, 0.792, 0.603]
      and mdx[cap, "mnist-test"] >= 0.84 and mdx[cap, "usps"] >= 0.77
      and mdx[cap, "fashion-mnist"] >= 0.59)

# %% [markdown]
# The cap changes nothing where it was fitted, by construction, and the records confirm it
# run for run.  Where it is new it costs a little on USPS (0.792 against 0.800 at lr 0.0005,
# inside the rule's 2 points) and, on three seeds of the 1,797 digits at lr 0.0001, ends at
# a median of 0.813 against 0.805 at lr 0.001: each recipe's seeds there lie 4 to 9 points
# apart, so three seeds do not separate the two.  The rule, now with the 70,000-image check,
# chooses the cap, and the three 10,000-image targets hold on this Xeon: MNIST-10k 0.852
# (>= 0.84), USPS 0.792 (>= 0.77), Fashion-MNIST-10k 0.603 (>= 0.59).
#
# On 70,000 images the check holds at one BLAS thread (median 0.922, lowest 0.872), where a
# run takes 16 to 17.5 minutes beside another, but not alone at two threads, where each run
# takes under 15 minutes: the same five seeds then give a median of 0.903 and seed 1 ends at
# 0.824.  Nothing in the recipe differs between the two columns; the number of BLAS threads
# changes how the float32 products are summed, and over 12,056 Adam steps that small
# difference grows into another autoencoder (seed 1 starts DEC from AE + k-means 0.756
# instead of 0.844), from which DEC ends 10 points lower.  Ten runs show the pipeline's
# spread on this data better than either five: the default reaches 0.88 on seven of ten, and
# stays below 0.85 on one.  It uses Adam, so it is still not the design's optimiser throughout;
# SGD with momentum trains its layer-wise stage.  Untested: sizes between 10,000 and 70,000
# rows, where the rate reaches 0.001 at 20,225 rows and the steps grow from 46,337, and batch
# sizes other than 256.
#
# Tutorial 04 builds the paper's greedy layer-wise pretraining and compares it with the
# end-to-end alternative.

# %%
summary()

# %% [markdown]
# ## Exercises
#
# 1. *(derivation)* Show that with a constant gradient g, classical momentum's velocity
#    satisfies `v_t = -lr g (1 - momentum^t) / (1 - momentum)`.  After how many steps is it
#    within 1% of its limit for momentum 0.9?  For 0.99?
# 2. *(derivation)* Redo section 2 for the Nesterov update: write its 2x2 matrix for
#    `f = 0.5 h w^2` and find the range of `lr h` for which it converges.
# 3. *(derivation)* Starting from `v' = momentum v - lr grad f(w + momentum v)`,
#    `w' = w + v'`, substitute `u = w + momentum v` and show that u follows the update of
#    exercise 2.
# 4. *(derivation)* PyTorch's SGD writes `b <- momentum b + g; w <- w - lr b`.  Show that
#    it equals Caffe's rule (`v = -lr b`) when lr is constant, and what differs on the step
#    where a schedule divides lr by 10.
# 5. *(experiment)* In section 5, find the largest lr (to a factor of 2) at which plain SGD
#    still converges, and the same for momentum 0.9.  Is their ratio near 1.9, as on the
#    quadratic?
# 6. *(experiment)* Add `weight_decay=1e-3` to a run of section 5 (`finetune` takes it) and
#    compare the norms of the weights at the end.
# 7. *(open)* Why does DEC move SGD's Fashion-MNIST embedding so little?  Pretrain
#    `schedule="sgd"` and `"adam"` on 2,000 Fashion-MNIST images, then compare the spread of z
#    (its per-dimension standard deviation against the distances between the k-means
#    centroids) and the sharpness of q at the start of DEC.
# 8. *(open)* Section 6's cap scales Adam's rate with the data and keeps the steps.  The
#    other way: keep lr 0.001 and cap the stage at 100 epochs (fewer steps on small sets).
#    With `adam_stage` as a model, write that rule, say what it gives on the eight sizes
#    of exercise 3 and what it saves against the cap on 10,000 rows, and predict from
#    section 6's AE + k-means medians what it would do on Fashion-MNIST; then run one seed
#    (`python benchmarks/recipes.py run --recipe dae-adam-shift --set
#    finetune.iterations=4000 --datasets fashion-mnist --seeds 0 --data-dir DIR`) and
#    compare it with the default's 0.591 on that seed.

# %% [markdown]
# # 09 · Choosing the number of clusters, and imbalanced data
#
# **What you will be able to do.** Run two experiments of Sec. 5 of the paper and read
# them honestly.
#
# 1. *Number of clusters* (Sec. 5.4).  Without labels, k must be chosen.  The paper fits
#    DEC for each k on a training split and measures the **generalizability**
#    G = L_train / L_validation, the ratio of the mean KL loss (Eq. 2) on the training
#    points to that on held-out points.  The idea: when k is too large, DEC splits natural
#    clusters in ways that do not carry over to new data, the validation loss grows and G
#    drops.  You write G yourself (exercise 1).
# 2. *Imbalanced data* (Sec. 5.3).  `imbalanced_subsample(X, y, r_min)` keeps each image of
#    class c with probability r_min + (1 - r_min) c / 9, so the largest class is about
#    1/r_min times the smallest.  The 1/f_j in the target (tutorial 05) is there to keep big
#    clusters from swallowing small ones.
#
# DEC itself (`DEC.fit`) is tutorial 07's subject; ACC and NMI are defined in tutorial 04.
#
# **Data.** MNIST's 10,000 test images in full mode, 1,500 of them in fast mode (the
# embedded 8x8 digits if MNIST is missing; the first lines of output say which), split
# 80 / 20 into training and validation points.
#
# **Modes.**  Fast (`DEC_NP_FAST=1`, the test suite's mode): a 784-64-64-128-10 network
# pretrained once (500 Adam steps) and reused for every run, k = 6, 8, 9, 10, 12, 14, at most
# 150 DEC iterations per fit, r_min = 0.1 and 1.0.  Full (the default): the experiment
# behind the project's records, `benchmarks/experiments.py select-k` and `imbalanced` on
# MNIST-10k with seed 0 and the layer-wise schedule "b64-epochs" (40 + 100 epochs at batch
# 64), k = 5..15, r_min = 0.1, 0.3, 0.5, 0.7, 0.9, DEC with its defaults; the imbalanced runs
# alone took 4.5 to 10 minutes each in the records (2-core machine, one BLAS thread).
# Medium (`DEC_NP_MEDIUM=1`): MNIST-10k with the "adam" schedule and at most 2,000
# DEC iterations (not timed).  The fast run's time is at the end.

# %%
import time

import numpy as np
from _common import MODE, check, claim, exercise, load_data, show, start, summary

from dec_np import DEC, StackedAutoencoder
from dec_np.cli import mean_kl, select_k
from dec_np.datasets import imbalanced_subsample
from dec_np.metrics import cluster_accuracy
from dec_np.plotting import plot_confusion, plot_select_k
from dec_np.scaling import input_scale_factor
from dec_np.schedules import get_schedule, run_schedule

start("09_choosing_k_imbalance")
T_START = time.perf_counter()
FAST_SCHEDULE = {"model": {"p_drop": 0.0, "init_std": "glorot", "loss_reduction": "mean"},
                 "input_scaling": "max", "layerwise": None,
                 "finetune": {"iterations": 500, "batch_size": 256, "lr": 3e-3,
                              "optimizer": "adam"}}
SETTINGS = {
    "fast": dict(n=1500, hidden=(64, 64, 128, 10), schedule=FAST_SCHEDULE,
                 ks=[6, 8, 9, 10, 12, 14], dec=dict(update_interval=20, max_iter=150),
                 r_mins=[0.1, 1.0], own_autoencoder=False),
    "medium": dict(n=None, hidden=(500, 500, 2000, 10), schedule=get_schedule("adam"),
                   ks=list(range(5, 16)), dec=dict(max_iter=2000), r_mins=[0.1, 0.5, 0.9],
                   own_autoencoder=False),
    "full": dict(n=None, hidden=(500, 500, 2000, 10), schedule=get_schedule("b64-epochs"),
                 ks=list(range(5, 16)), dec={}, r_mins=[0.1, 0.3, 0.5, 0.7, 0.9],
                 own_autoencoder=True),
}[MODE]
X, y, image_shape, name = load_data(SETTINGS["n"])
schedule = SETTINGS["schedule"]
# the split of benchmarks/experiments.py select-k: 20% validation, drawn with the seed
order = np.random.default_rng(0).permutation(len(X))
n_val = int(round(0.2 * len(X)))
tr, va = np.sort(order[n_val:]), np.sort(order[:n_val])
print(f"{len(tr)} training and {len(va)} validation images")


def pretrain(Xpart):
    """An autoencoder pretrained on Xpart with the mode's schedule and seed 0 (as DEC.fit
    scales its input: by the schedule's input scaling)."""
    s = schedule
    sae = StackedAutoencoder((X.shape[1],) + SETTINGS["hidden"], random_state=0, **s["model"])
    Xscaled = Xpart.astype(np.float32) * np.float32(input_scale_factor(Xpart, s["input_scaling"]))
    return run_schedule(sae, Xscaled, s)


def make_dec(k, sae):
    """DEC with k clusters, starting from a copy of ``sae``, scaling X as its schedule does."""
    return DEC(k, autoencoder=sae, schedule=schedule, random_state=0, n_init=20,
               **SETTINGS["dec"])


# %% [markdown]
# ## 1. One pretrained autoencoder for every k
#
# Pretraining is the expensive part and does not depend on k, so it is done once, on the
# training split only (the validation points must stay unseen), and each DEC starts from a
# copy (`DEC(autoencoder=sae)` copies it).

# %%
t0 = time.perf_counter()
sae = pretrain(X[tr])
print(f"pretraining: {time.perf_counter() - t0:.1f} s")

# %% [markdown]
# ## 2. The generalizability, derived
#
# For one split S of n points (training or validation) take the fitted model's soft
# assignments q_ij (Eq. 1) of those points, build the target from **that split's own**
# q (Eq. 3), with the soft cluster sizes f_j of the same split,
#
#     f_j = sum_{i in S} q_ij,     p_ij = (q_ij^2 / f_j) / sum_j' (q_ij'^2 / f_j'),
#
# and average the KL loss (Eq. 2) over the split's points:
#
#     L_S = (1/n) sum_{i in S} sum_j p_ij log(p_ij / q_ij).
#
# The 1/n makes splits of different sizes comparable (800 training against 200 validation
# points per 1,000 here).  Then
#
#     G = L_train / L_validation.
#
# The paper reads a sharp fall of G as k grows as the sign that the extra clusters do not
# carry over to new data (in the project's full-size record below L_validation exceeds
# L_train at every k, G < 1).
#
# **Exercise 1.** Write `generalizability` in plain NumPy (without the package's
# `target_distribution` and `kl_divergence`), in float64.

# %%
@exercise
def generalizability(q_train, q_val):
    """L_train, L_val and G = L_train / L_val (paper Sec. 5.4).

    Parameters
    ----------
    q_train : ndarray of shape (n_train, k)
        Soft assignments of the training points; rows sum to 1.
    q_val : ndarray of shape (n_val, k)
        Soft assignments of the validation points.

    Returns
    -------
    l_train, l_val, G : float
        L_S = (1/n_S) sum_i sum_j p_ij log(p_ij / q_ij) with, on each split S separately,
        f_j = sum_i q_ij and p_ij = (q_ij^2 / f_j) / sum_j' (q_ij'^2 / f_j').
    """
    # YOUR CODE HERE (about eight lines)
    raise NotImplementedError("generalizability: L on each split, then their ratio")
    # END OF YOUR CODE


# %% [markdown]
# ## 3. G and NMI against k
#
# `dec_np.cli.select_k` fits one DEC per k on the training split and computes G with the
# package's functions (`mean_kl`: `predict_proba`, `target_distribution`, `kl_divergence`),
# and the NMI of the validation points' predicted clusters.  We keep the fitted models to
# check exercise 1 against the package on one of them: the two should agree to a relative
# error **below 1e-5** (float32 q; the check allows 1e-4).

# %%
t0 = time.perf_counter()
models = {}
rows = select_k(X[tr], X[va], SETTINGS["ks"],
                lambda k: models.setdefault(k, make_dec(k, sae)), y[tr], y[va])
t_k = time.perf_counter() - t0
G = [r["G"] for r in rows]
nmi_val = [r["nmi_val"] for r in rows]
moved = {k: float(np.mean(m.labels_ != m.init_labels_)) for k, m in models.items()}
print("  k   L_train   L_valid   G       NMI (valid)   moved from k-means start")
for r in rows:
    print(f"{r['k']:>3d}   {r['L_train']:.4f}    {r['L_val']:.4f}    {r['G']:.3f}   "
          f"{r['nmi_val']:.3f}         {moved[r['k']]:.3f}")
print(f"{len(rows)} fits in {t_k:.1f} s")
m10 = models[10]
q_tr, q_va = m10.predict_proba(X[tr]), m10.predict_proba(X[va])
l_tr, l_va = mean_kl(m10, X[tr]), mean_kl(m10, X[va])
check("generalizability: L_train, L_val, G at k = 10", lambda: generalizability(q_tr, q_va),
      (l_tr, l_va, l_tr / l_va), rtol=1e-4, atol=0.0,
      against="dec_np.cli.mean_kl (the package's target_distribution and kl_divergence)")
show(plot_select_k(SETTINGS["ks"], G, nmi_val, path=None), "09_select_k.png")

# %% [markdown]
# **Reading it, and why the fast run cannot show the paper's curve.**  The recipe: choose
# the largest k before G falls off.  The project's full-size record (MNIST-10k, 8,000
# training and 2,000 validation images, schedule "b64-epochs", seed 0, DEC run to
# convergence) shows the pattern:
#
# | k | 5 | 6 | 7 | 8 | 9 | 10 | 11 | 12 | 13 | 14 | 15 |
# |---|---|---|---|---|---|---|---|---|---|---|---|
# | G | 0.772 | 0.750 | 0.696 | 0.723 | 0.631 | 0.603 | 0.619 | 0.582 | 0.520 | 0.596 | 0.579 |
# | NMI (valid) | 0.575 | 0.581 | 0.650 | 0.702 | 0.714 | 0.701 | 0.690 | 0.736 | 0.718 | 0.725 | 0.720 |
#
# G falls from 0.77 to about 0.6, and its steepest drop is between k = 8 and 9 (0.723 to
# 0.631), in line with the paper's reading that MNIST has about 9 well separated clusters
# (4 and 9 merge).  It is one seed and noisy (G climbs back at 11 and 14), and the NMI keeps
# rising to 0.736 at k = 12, so NMI alone would not have picked 9.
#
# The fast run differs from the record in everything that takes time: 1,200 training
# points instead of 8,000, a 784-64-64-128-10 network pretrained for 500 steps instead of
# the paper's network and 40 + 100 epochs, and at most 150 DEC iterations per k instead of
# a run to convergence.  In the fast run DEC changes the cluster of at most a sixth of the
# training points (the last column), its two losses stay close and G stays near 1 for every k,
# with no drop past the true k; which of the three differences removes the drop was not
# measured (exercise 4 is a start).

# %%
claim("In fast mode DEC changes the cluster of at most a sixth of the training points at "
      "every k.", max(moved.values()) < 1 / 6, most_moved=max(moved.values()))
claim("In fast mode G stays within 0.1 of 1 for every k.",
      all(abs(v - 1) < 0.1 for v in G), G_min=min(G), G_max=max(G))
record_G = [0.772, 0.750, 0.696, 0.723, 0.631, 0.603, 0.619, 0.582, 0.520, 0.596, 0.579]
print(f"fast mode: G from {min(G):.3f} to {max(G):.3f}; the full-size record: "
      f"G from {min(record_G):.3f} to {max(record_G):.3f}")

# %% [markdown]
# ## 4. Imbalanced data
#
# For each r_min: subsample the training split, run DEC (k = 10), and compare its accuracy
# with its own AE + k-means start (`init_labels_`).  In fast mode every run starts from the
# autoencoder of section 1 (pretrained on the balanced split); full mode pretrains one per
# subset, as the records did.  The project's full-size record (the whole 10,000-image
# MNIST test set subsampled, seed 0, schedule "b64-epochs"):
#
# | r_min | 0.1 | 0.3 | 0.5 | 0.7 | 0.9 |
# |---|---|---|---|---|---|
# | AE + k-means ACC | 0.603 | 0.665 | 0.709 | 0.732 | 0.743 |
# | DEC ACC | 0.642 | 0.715 | 0.756 | 0.809 | 0.802 |
#
# DEC gains 4 to 8 points over its start at every imbalance, and both fall as the smallest
# class shrinks (about 100 zeros against 1,000 nines at r_min = 0.1).

# %%
print(" r_min   n      smallest/largest class   ACC AE+k-means   ACC DEC")
gains = {}
for r_min in SETTINGS["r_mins"]:
    pool = tr if not SETTINGS["own_autoencoder"] else np.arange(len(X))
    idx, _ = imbalanced_subsample(pool, y[pool], r_min, random_state=0)  # rows kept
    counts = np.bincount(y[idx], minlength=10)
    start_sae = sae if not SETTINGS["own_autoencoder"] else pretrain(X[idx])
    dec = make_dec(10, start_sae).fit(X[idx], y[idx])
    acc0, acc1 = cluster_accuracy(y[idx], dec.init_labels_), cluster_accuracy(y[idx], dec.labels_)
    gains[r_min] = acc1 - acc0
    print(f"  {r_min:.1f}  {len(idx):>5d}   {counts.min():>5d}/{counts.max():<5d}"
          f"               {acc0:.3f}            {acc1:.3f}")
    if r_min == min(SETTINGS["r_mins"]):
        show(plot_confusion(y[idx], dec.labels_, path=None), "09_imbalanced_confusion.png")

# %% [markdown]
# In fast mode the subsets are too small to show the record's gains: at r_min = 0.1 the
# rarest digit keeps only a handful of images, and 150 DEC iterations from an autoencoder
# pretrained on other data move few labels, so the two ACC columns differ by a few points
# either way.  The
# confusion matrix (columns are clusters named by their matched digit) shows where the
# rare digits went.

# %%
counts_min = np.bincount(y[imbalanced_subsample(tr, y[tr], min(SETTINGS["r_mins"]),
                                                random_state=0)[0]], minlength=10).min()
if MODE == "fast":
    claim("In fast mode the rarest digit of the r_min = 0.1 subset has fewer than 20 images.",
          counts_min < 20, rarest=int(counts_min))
    claim("In fast mode DEC's ACC is within 5 points of its start at every r_min.",
          all(abs(v) < 0.05 for v in gains.values()),
          **{f"gain_{r:g}": v for r, v in gains.items()})

# %%
t_total = time.perf_counter() - T_START
print(f"run time of this script after imports: {t_total:.1f} s")
summary()

# %% [markdown]
# **Run time** (2-core Intel Xeon shared with other jobs, one BLAS thread, Python start-up
# included): fast mode 8.4 s of CPU time (32 s of wall time on the busy machine).  Full
# mode was not run for this text; its numbers above are the project's records.
#
# ## Exercises
#
# 1. (Derivation) Show that L_S is 0 both when every q_i is uniform (1/k in each cluster)
#    and when every q_i is one-hot, and positive in between.  What does that say about
#    comparing L across values of k?
# 2. (Derivation) Compute L_S for a split whose points all share one q row
#    (q_ij = q_j for every i).  Show that it depends on q but not on n, so the 1/n makes
#    splits of different sizes comparable.
# 3. Compute G with the validation target built from the *training* split's cluster sizes
#    f_j instead of its own.  Does the choice of k change?
# 4. Repeat the k sweep with three `random_state`s and average G (what
#    `benchmarks/experiments.py select-k --seeds 0 1 2` does).  Is the drop at 8 to 9 of the
#    record still the steepest?
# 5. Make the data more imbalanced (r_min = 0.05) and lower `update_interval`.  At what
#    r_min does DEC stop improving on its start here?

# %% [markdown]
# # 07 · DEC end to end: the clustering loop by hand, proven equal to `DEC.fit`
#
# **What you will be able to do.** Run the whole algorithm of the paper on MNIST and write
# its clustering phase (Sec. 3.1) yourself: pretrain the autoencoder (tutorial 04), put the
# centroids mu where k-means finds them in the embedding z (Sec. 3.3), then minimise
# KL(P || Q) (Eq. 2) by SGD on the encoder weights theta and mu together, the target P
# (Eq. 3) recomputed from all points every `update_interval` iterations.  You write one
# mini-batch step (exercise 1); the tutorial writes the whole loop out from the package's
# pure functions and shows that it ends with exactly the labels and centroids of
# `DEC.fit`.  Last, the paper's Figures 3, 4 and 5.  ACC and NMI are defined in tutorial
# 04; q, p and their gradients in tutorials 05 and 06.
#
# **Data and modes.** MNIST's 10,000 test images ("MNIST-10k"; the embedded 8x8 digits if
# MNIST is missing, as the first lines of output say).  Fast (`DEC_NP_FAST=1`, the test
# suite's mode): 1,500 of the images, a 784-64-64-128-10 network, 500 Adam steps of
# pretraining, at most 300 DEC iterations with `update_interval=20`.  Full (the default):
# MNIST-10k and exactly what `DEC(n_clusters=10, image_shape=(28, 28), augment=None,
# random_state=0).fit(X)` runs: the default schedule for images (printed at the start;
# tutorial 04) on the paper's 784-500-500-2000-10 network, then the paper's clustering phase
# (without `augment=None` DEC turns and shifts each batch: lesson 10).
# Medium (`DEC_NP_MEDIUM=1`): the "adam" schedule with 2,000 pretraining steps.

# %%
import copy
import time

import numpy as np
from _common import MODE, check, claim, exercise, load_data, show, start, summary
from _dec_check import first_step

from dec_np import DEC, StackedAutoencoder
from dec_np.dec import clustering_settings
from dec_np.dec_math import kl_divergence, kl_gradients, soft_assignment, target_distribution
from dec_np.kmeans import kmeans
from dec_np.metrics import best_mapping, cluster_accuracy, nmi
from dec_np.optim import SGD
from dec_np.plotting import (plot_cluster_examples, plot_confusion, plot_embedding_stages,
                             plot_gradient_magnitude, plot_training_curves)
from dec_np.scaling import input_scale_factor
from dec_np.schedules import get_schedule, run_schedule
from dec_np.utils import BatchStream

start("07_dec_end_to_end")
FAST_SCHEDULE = {"model": {"p_drop": 0.0, "init_std": "glorot", "loss_reduction": "mean"},
                 "input_scaling": "max", "layerwise": None,
                 "finetune": {"iterations": 500, "batch_size": 256, "lr": 3e-3, "optimizer": "adam"}}
MEDIUM_SCHEDULE = dict(get_schedule("adam"), finetune=dict(get_schedule("adam")["finetune"], iterations=2000))
SETTINGS = {
    "fast": dict(n=1500, hidden=(64, 64, 128, 10), schedule=FAST_SCHEDULE,
                 dec=dict(update_interval=20, max_iter=300)),
    "medium": dict(n=None, hidden=(500, 500, 2000, 10), schedule=MEDIUM_SCHEDULE, dec={}),
    "full": dict(n=None, hidden=(500, 500, 2000, 10), schedule=get_schedule("default", True), dec={}),
}[MODE]
X, y, image_shape, data_name = load_data(SETTINGS["n"])
K = 10
# DEC's clustering settings: its defaults, except where fast mode shortens them
D = {key: DEC().get_params()[key] for key in ("alpha", "batch_size", "lr", "momentum",
                                              "update_interval", "tol", "n_init")}
D["max_iter"] = clustering_settings(DEC(augment=None))[1]  # "auto" without augmenting: 2,520
D.update(SETTINGS["dec"])
print("pretraining schedule:", SETTINGS["schedule"])
print("DEC settings:", D)

# %% [markdown]
# ## 1. Pretrain the autoencoder, the way `DEC.fit` does
#
# `DEC(n_clusters=10, image_shape=(28, 28), random_state=0).fit(X)` scales X by one scalar
# (the schedule's input scaling), makes **one** random generator `rng = seed_sequence(0)`
# (`dec_np.backend`: here `np.random.default_rng(0)`), builds the autoencoder from it and
# pretrains it with the schedule (tutorial 04; random image shifts, where the schedule asks
# for them, draw from the same generator).  The same generator then seeds k-means and the
# order of the mini-batches.  We do exactly the same by hand, and keep the
# generator: handed on to `DEC(autoencoder=sae, random_state=rng)`, it makes that fit the
# very run `DEC(..., random_state=0)` makes, without pretraining a second time.

# %%
t0 = time.perf_counter()
schedule = SETTINGS["schedule"]
scale = input_scale_factor(X, schedule["input_scaling"])
Xs = X.astype(np.float32) * np.float32(scale)
rng = np.random.default_rng(0)
sae = StackedAutoencoder((X.shape[1],) + SETTINGS["hidden"], random_state=rng, **schedule["model"])
run_schedule(sae, Xs, schedule, image_shape=image_shape)  # the rows are images
t_pretrain = time.perf_counter() - t0


def generator_after_pretraining(state=copy.deepcopy(rng.bit_generator.state)):
    """A generator in the state ``rng`` had right after pretraining (k-means draws next)."""
    g = np.random.default_rng()
    g.bit_generator.state = copy.deepcopy(state)
    return g


print(f"pretraining: {t_pretrain:.1f} s, loss {sae.reconstruction_loss(Xs):.4f}")

# %% [markdown]
# ## 2. One step of the clustering phase, derived
#
# Fix the target P (it is recomputed only every `update_interval` iterations, section 3).
# An iteration draws a mini-batch B of B = |B| row indices and takes one SGD step on the
# **mean** KL loss of the batch,
#
#     L_B = (1/B) sum_{i in B} sum_j p_ij log(p_ij / q_ij),
#
# where q_ij (Eq. 1) is computed afresh for the batch from the *current* theta and mu:
# z_i = f_theta(x_i), q_ij = (1 + |z_i - mu_j|^2/alpha)^(-(alpha+1)/2) / sum_j' (...).
# `kl_gradients` (tutorial 06, Eq. 4 and 5, P held constant) returns the gradients of the
# batch's **sum** (only term i of the sum depends on z_i):
#
#     dz[i]  = (alpha+1)/alpha sum_j (1 + |z_i - mu_j|^2/alpha)^(-1) (p_ij - q_ij)(z_i - mu_j)
#     dmu[j] = -(alpha+1)/alpha sum_{i in B} (1 + |z_i - mu_j|^2/alpha)^(-1) (p_ij - q_ij)(z_i - mu_j)
#
# so the gradient of the mean is each of them times 1/B: dL_B/dz_i = dz[i]/B and
# dL_B/dmu_j = dmu[j]/B.  (So the size of a step does not grow with the batch size.)
#
# theta reaches L_B only through the z_i, so by the chain rule
#
#     dL_B/dtheta = sum_{i in B} (dz_i/dtheta)^T dL_B/dz_i,
#
# which is exactly what the encoder's backward pass computes when it is handed the (B, d_z)
# array dz/B: `encoder.backward(dz / B)` fills the gradient of every encoder layer
# (tutorial 01), provided the forward pass of the same batch ran just before (its cache).
# Then one SGD step with momentum (tutorial 03) moves theta and mu **together** (the
# decoder takes no part any more): for every w in {theta, mu}, v = momentum v - lr g_w; w += v.
#
# **Exercise 1.** Write `dec_step`.  It updates `params` in place and returns nothing.

# %%
@exercise
def dec_step(encoder, xb, pb, params, grads, opt, alpha=1.0):
    """One mini-batch step of DEC's clustering phase, in place.

    Parameters
    ----------
    encoder : dec_np.layers.Sequential
        x -> z (``sae.encoder()``); its Dense layers hold the arrays in ``params``.
    xb : ndarray of shape (B, d), float32
        The batch's (scaled) inputs.
    pb : ndarray of shape (B, k)
        The batch's rows of the target P, computed from all points.
    params : dict
        The encoder's weights by name ("enc0.W", "enc0.b", ...) and "mu", shape (k, d_z):
        the arrays ``opt`` updates.
    grads : dict
        The encoder's gradient arrays under the same names (filled in place by
        ``encoder.backward``); set ``grads["mu"]`` yourself.
    opt : dec_np.optim.SGD
    alpha : float

    Steps, with mu = params["mu"]: zb = encoder.forward(xb, train=True) (B, d_z);
    qb = soft_assignment(zb, mu, alpha) (B, k); dz, dmu = kl_gradients(zb, mu, pb, qb, alpha)
    (B, d_z), (k, d_z); scale both by 1/B; encoder.backward(dz / B, need_dx=False);
    grads["mu"] = dmu / B; opt.step(params, grads).
    """
    # YOUR CODE HERE (about six lines)
    raise NotImplementedError("dec_step: forward, q, gradients / B, backward, SGD step")
    # END OF YOUR CODE


# %% [markdown]
# **The check.** `DEC(..., max_iter=1, update_interval=1)` with the same autoencoder and
# generator runs k-means, draws the first mini-batch and takes exactly one step.
# `first_step` (`tutorials/_dec_check.py`) rebuilds that state, `take_step` lets your
# `dec_step` take the step from it, and the check compares the change of every encoder
# array (`enc0.W`, ...) and of `mu` (from rest: -lr times the gradient).  Float32 rounds
# differently wherever the order of operations differs (a 1/B in float64, say), so each
# tensor may be off by **1e-3 of its largest change** (plus 1e-3 relative); a missing 1/B
# is off by a factor B, a wrong sign by 2.

# %%
expected, take_step = first_step(sae, X, Xs, K, D, schedule["input_scaling"],
                                 generator_after_pretraining)  # tutorials/_dec_check.py
step_ok = check("dec_step: the change of theta and mu after one step",
                lambda: take_step(dec_step), expected,
                rtol=1e-3, atol=0.0, scale_atol=1e-3,
                against="one iteration of DEC.fit (max_iter=1)")

# %% [markdown]
# ## 3. The whole clustering phase, by hand
#
# Around the step sits the outer loop of `DEC.fit` (`dec_np/dec.py`, `_run`).  Every
# `update_interval` iterations (and at iteration 0) it
#
# 1. encodes **all** N points with the current theta (z changes as the encoder learns),
# 2. computes q for all of them (Eq. 1) and the target p = `target_distribution(q)` (Eq. 3):
#    f_j = sum_i q_ij must be the whole data set's, which a mini-batch cannot give, and P
#    stays fixed while SGD chases it (a target that moved with every step would chase itself);
# 3. takes the hard labels argmax_j q_ij and the fraction `delta` of points whose label
#    changed since the last update: **fewer than `tol`** means the assignment has settled
#    and the loop stops (so does reaching `max_iter`).
#
# Between updates it takes the step of exercise 1, written out below from the package
# functions (so it runs whatever state your exercise is in).  It mirrors `DEC.fit` from the
# generator state right after pretraining: a copy of the autoencoder, `kmeans(z, k, n_init,
# random_state=rng)`, then `BatchStream(n, batch_size, rng)` (a fresh permutation every epoch).
#
# **Shifted batches (lesson 10).** `DEC(augment={"shift": f})` shifts `Xs[idx]` at random
# before the encoder's forward pass; P, the labels and `delta` still come from the clean `Xs`.
# Still the paper's step: P is held fixed, Eq. 4 and 5 hold for whatever z_i the batch has,
# and SGD minimises KL(P || Q) averaged over shifts, each copy pulled to its clean row p_i.

# %%
t0 = time.perf_counter()
rng = generator_after_pretraining()
ae = copy.deepcopy(sae)                            # fit trains a copy; sae stays as it is
encoder = ae.encoder()                             # x -> z: the Dense layers of ae
z0 = z = ae.encode(Xs)                             # (N, d_z), all points
mu, labels_init, _ = kmeans(z, K, n_init=D["n_init"], random_state=rng)   # Sec. 3.3
mu = mu.astype(Xs.dtype)
mu_init = mu.copy()
params = {name: w for name, w in ae.params.items() if name.startswith("enc")}  # theta
grads = {name: gw for name, gw in ae.grads.items() if name.startswith("enc")}
params["mu"] = mu                                  # theta and mu in one optimiser
opt = SGD(D["lr"], D["momentum"])
stream = BatchStream(len(Xs), D["batch_size"], rng)
it, labels_prev, p, hist = 0, None, None, []
while True:
    if it % D["update_interval"] == 0:             # refresh the target from ALL points
        if it > 0:
            z = ae.encode(Xs)                      # theta has moved since the last update
        q = soft_assignment(z, mu, D["alpha"])     # Eq. 1, (N, k)
        loss_old_p = None if p is None else kl_divergence(p, q) / len(Xs)  # P before refresh
        p = target_distribution(q)                 # Eq. 3, fixed until the next update
        labels = q.argmax(axis=1)
        delta = 1.0 if labels_prev is None else float(np.mean(labels != labels_prev))
        hist.append(dict(it=it, loss=kl_divergence(p, q) / len(Xs), loss_old_p=loss_old_p,
                         delta=delta, acc=cluster_accuracy(y, labels)))
        if (labels_prev is not None and delta < D["tol"]) or it >= D["max_iter"]:
            break                                  # fewer than tol changed: settled
        labels_prev = labels
    _, idx = next(stream)                          # the next mini-batch of row indices
    zb = encoder.forward(Xs[idx], train=True)      # (B, d_z); the layers cache their inputs
    qb = soft_assignment(zb, mu, D["alpha"])       # q of the batch, current theta and mu
    dz, dmu = kl_gradients(zb, mu, p[idx], qb, D["alpha"])   # Eq. 4, 5: the batch's sum
    inv = Xs.dtype.type(1.0 / len(idx))            # 1/B: the gradient of the batch MEAN
    encoder.backward(dz * inv, need_dx=False)      # dL/dz_i into theta (grads, in place)
    grads["mu"] = dmu * inv
    opt.step(params, grads)                        # one SGD step on theta and mu together
    it += 1
t_hand = time.perf_counter() - t0
print(f"by hand: {it} iterations in {t_hand:.1f} s; AE + k-means ACC "
      f"{cluster_accuracy(y, labels_init):.3f}, DEC ACC {cluster_accuracy(y, labels):.3f}")

# %% [markdown]
# ### The same as `DEC.fit`
#
# `DEC(autoencoder=sae)` copies `sae`; from the same generator state it retraces the loop.

# %%
t0 = time.perf_counter()
dec = DEC(K, autoencoder=sae, input_scaling=schedule["input_scaling"],
          random_state=generator_after_pretraining(), **D).fit(X, y)
t_fit = time.perf_counter() - t0
same_labels = bool(np.array_equal(dec.labels_, labels))
mu_err = float(np.max(np.abs(dec.cluster_centers_ - mu)) / np.max(np.abs(mu)))
print(f"DEC.fit: {dec.n_iter_} iterations in {t_fit:.1f} s; labels identical: {same_labels}; "
      f"centroid difference {mu_err:.1e} of max|mu|")
claim("The loop by hand ends with the same labels, after the same number of iterations, "
      "and centroids within float32 tolerance (1e-5 of max|mu|) of DEC.fit.",
      same_labels and dec.n_iter_ == it and mu_err < 1e-5
      and np.array_equal(dec.init_labels_, labels_init), iterations=it, mu_error=mu_err)

# %% [markdown]
# ## 4. What the loop did
#
# The baselines: k-means on the (scaled) pixels, and k-means on the autoencoder's z, DEC's
# own start (`init_labels_`).  `fit(X, y)` uses y only to record ACC and NMI; training
# never sees it.

# %%
_, labels_px, _ = kmeans(Xs, K, n_init=5, random_state=0)
acc_px, acc_ae, acc_dec = (cluster_accuracy(y, v) for v in (labels_px, dec.init_labels_,
                                                             dec.labels_))
print(f"k-means on pixels: ACC {acc_px:.3f}  NMI {nmi(y, labels_px):.3f}")
print(f"AE + k-means:      ACC {acc_ae:.3f}  NMI {nmi(y, dec.init_labels_):.3f}")
print(f"DEC:               ACC {acc_dec:.3f}  NMI {nmi(y, dec.labels_):.3f}")
claim("DEC ends above its own starting point, AE + k-means, in ACC.", acc_dec > acc_ae + 0.02,
      dec=acc_dec, ae_kmeans=acc_ae)
print(" iteration  loss     loss vs old P  changed  ACC")
shown = hist[::max(1, len(hist) // 12)]
for r in shown + ([] if shown[-1] is hist[-1] else hist[-1:]):
    old = "      -    " if r["loss_old_p"] is None else f"{r['loss_old_p']:.5f}    "
    print(f"{r['it']:>9d}   {r['loss']:.5f}  {old}  {r['delta']:.4f}   {r['acc']:.3f}")
show(plot_training_curves(dec.history_, path=None), "07_training_curves.png")

# %% [markdown]
# **Why the recorded loss can rise.**  The loss in `history_` is KL(P || Q) per point
# measured at each update against the *new* P, and every update re-sharpens P from the new
# Q: squaring q (Eq. 3) pushes P further from Q the more confident Q has become.  Losses of
# different updates are measured against different targets and do not compare.  Within one
# interval the target is fixed, and there SGD does lower the loss: the column "loss vs old
# P" is KL(P_old || Q_new) at the end of the interval, to be compared with the loss of the
# line above (same P, the Q from before the interval).

# %%
pairs = [(hist[i - 1]["loss"], hist[i]["loss_old_p"]) for i in range(1, len(hist))]
fell = sum(after < before_ for before_, after in pairs)
rose = sum(hist[i]["loss"] > hist[i - 1]["loss"] for i in range(1, len(hist)))
print(f"intervals: {len(pairs)}; loss fell with P fixed in {fell}; "
      f"the recorded loss rose from one update to the next {rose} times")
claim("With P held fixed, the loss fell over every interval.", fell == len(pairs),
      intervals=len(pairs), fell=fell)
claim("The recorded loss rose from one update to the next at least once.", rose > 0, rose=rose)

# %% [markdown]
# ## 5. Figure 3: the most confident images of each cluster
#
# One numbering for all figures: each cluster is named by the digit the Hungarian matching
# of ACC (tutorial 04) pairs it with, as in the confusion matrix; row c of Fig. 3 is the
# cluster matched with digit c.

# %%
to_digit = best_mapping(y, dec.labels_)                   # {cluster: digit}
order = sorted(range(K), key=lambda c: to_digit.get(c, K + c))
q = dec.predict_proba(X)
show(plot_cluster_examples(X, q[:, order], image_shape, path=None), "07_fig3_cluster_examples.png")
show(plot_confusion(y, dec.labels_, path=None), "07_confusion.png")

# %% [markdown]
# ## 6. Figure 4: which points drive the gradient, at the start and at the end
#
# The paper draws its Fig. 4 at the start of KL minimisation: for one cluster j, the points
# ranked by q_ij against |dL/dz_i| of Eq. (4), to ask whether the confident points, the
# ones DEC trusts, dominate the gradient.  We draw it at the start (the autoencoder's z and
# the k-means mu) and at the end, for the largest cluster, named by its matched digit, and
# compare the mean |dL/dz_i| of its most confident tenth of points with that of its middle
# tenth (ranks 45% to 55%): the paper reads its Fig. 4 as the confident points pulling
# hardest at the start.

# %%
def gradient_figure(z, mu, labels, name, when):
    q = soft_assignment(z, mu, D["alpha"])
    dz, _ = kl_gradients(z, mu, target_distribution(q), q, D["alpha"])
    j = int(np.bincount(labels, minlength=K).argmax())
    digit = best_mapping(y, labels).get(j, j)
    members = labels == j
    norm, qj = np.linalg.norm(dz[members], axis=1), q[members, j]
    fig = plot_gradient_magnitude(norm, qj, X[members], image_shape, path=None)
    fig.suptitle(f"|dL/dz_i| against the rank of q_ij, {when}: cluster of digit {digit}",
                 fontsize=10)
    show(fig, name)
    ranked = norm[np.argsort(-qj)]
    tenth = max(1, len(ranked) // 10)
    return ranked[:tenth].mean(), ranked[len(ranked) // 2 - tenth // 2:][:tenth].mean()


top0, mid0 = gradient_figure(z0, mu_init, labels_init, "07_fig4_gradient_start.png",
                             "start of KL minimisation")
top1, mid1 = gradient_figure(dec.transform(X), dec.cluster_centers_, dec.labels_,
                             "07_fig4_gradient_end.png", "end")
print(f"mean |dL/dz_i|, most confident tenth vs middle tenth: start {top0:.4f} vs {mid0:.4f}, "
      f"end {top1:.4f} vs {mid1:.4f}")
claim("At the start the most confident tenth of the cluster has a larger mean gradient than "
      "its middle tenth.", top0 > mid0, top=top0, middle=mid0)
claim("At the end the order is reversed: the middle tenth has the larger mean gradient.",
      mid1 > top1, top=top1, middle=mid1)

# %% [markdown]
# ## 7. Figure 5: the embedding, before and after DEC
#
# The paper shows t-SNE at several DEC epochs; we project the pixels, the autoencoder's z
# and DEC's z with PCA (an SVD, no extra dependency).

# %%
sub = np.random.default_rng(0).choice(len(X), min(3000, len(X)), replace=False)
show(plot_embedding_stages(
    [Xs[sub], z0[sub], dec.transform(X)[sub]], y[sub],
    [f"pixels (k-means ACC {acc_px:.2f})", f"autoencoder z (ACC {acc_ae:.2f})",
     f"DEC z (ACC {acc_dec:.2f})"], path=None), "07_fig5_embedding.png")

# %% [markdown]
# ## 8. Fast mode and full mode
#
# Fast mode cuts everything that takes time; the run prints how much.  The paper reports
# 84.3% ACC on MNIST; docs/experiments.md records what full mode gives on MNIST-10k.

# %%
dims = (X.shape[1], 500, 500, 2000, 10)  # the paper's network: encoder and decoder
full_weights = sum(2 * a * b + a + b for a, b in zip(dims[:-1], dims[1:]))
print(f"this run: {len(X):,} images, {sum(w.size for w in sae.params.values()):,} weights "
      f"in the autoencoder (the "
      f"paper's network on these inputs: {full_weights:,}), {it} DEC iterations; "
      f"AE + k-means ACC {acc_ae:.3f}, DEC ACC {acc_dec:.3f}")
summary()

# %% [markdown]
# ## Exercises
#
# 1. (Derivation) Show that `target_distribution` needs q of all N points while the step
#    needs q of the batch only: write f_j as a sum over i and say what a batch-wise f_j
#    would do to a cluster that happens to be rare in one batch.
# 2. (Derivation) With the loss summed over the batch instead of averaged, what learning
#    rate gives the same steps as `lr=0.01` at batch 256?  At batch 64?
# 3. Run the loop with `params` holding only "mu": the paper's "DEC w/o backprop" ablation.
#    Check it against `DEC(update_encoder=False)` as section 3 does, and compare the ACC.
# 4. Change `update_interval` to 10 and to 500 in fast mode: how do the iterations to
#    convergence and the final ACC move?
# 5. Read the confusion matrix: which digits does DEC merge or split (the paper: 4 and 9)?
#    Does the start-of-training Fig. 4 of that cluster show why?

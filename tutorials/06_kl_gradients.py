# %% [markdown]
# # 06 · Deriving dL/dz_i and dL/dmu_j, checking them, and why P is held fixed
#
# **What you will be able to do.** Derive the gradients of DEC's loss L = KL(P || Q) with
# respect to the embedded points z_i and the centroids mu_j (the paper's Eq. 4 and 5, for any
# alpha) step by step, code them, check them against centred finite differences in float64
# for several alpha, and explain, with a measurement, why the target P is held fixed while
# differentiating.
#
# **The paper (Sec. 3.1.3).** Eq. (4) and (5) carry the general prefactor (alpha+1)/alpha:
#
#     dL/dz_i  =  ((alpha+1)/alpha) sum_j (1 + |z_i - mu_j|^2/alpha)^(-1) (p_ij - q_ij)(z_i - mu_j)   (4)
#     dL/dmu_j = -((alpha+1)/alpha) sum_i (1 + |z_i - mu_j|^2/alpha)^(-1) (p_ij - q_ij)(z_i - mu_j)   (5)
#
# (with alpha = 1, the value of all the paper's experiments, the prefactor is 2).  P is
# treated as a constant: it is a target, recomputed only every `update_interval` steps.
# **Data:** random z (12 x 4) and mu (3 x 4) in float64, seed 0; no images.  The lesson
# does the same (seconds of) work in every mode.
#
# ## The derivation of Eq. (4)
#
# Notation: d_ij = |z_i - mu_j|^2, u_ij = 1 + d_ij / alpha, a = (alpha + 1)/2, the kernel
# k_ij = u_ij^(-a), the row normaliser S_i = sum_l k_il, so q_ij = k_ij / S_i (Eq. 1).
# With P fixed,
#
#     L = sum_i sum_j p_ij log p_ij  -  sum_i sum_j p_ij log q_ij,
#     log q_ij = log k_ij - log S_i.
#
# The first sum does not depend on z or mu.  z_i appears only in row i (in every k_ij of that
# row, hence also in S_i).  Write g_ij = d(log k_ij)/dz_i, a vector of length d.
#
# Step 1, the kernel: log k_ij = -a log u_ij and d u_ij / dz_i = 2 (z_i - mu_j) / alpha, so
#
#     g_ij = -a (1/u_ij) (2/alpha)(z_i - mu_j) = -((alpha+1)/alpha) u_ij^(-1) (z_i - mu_j).
#
# Step 2, the log-normaliser:
#
#     d(log S_i)/dz_i = (1/S_i) sum_l d k_il / dz_i = sum_l (k_il / S_i) d(log k_il)/dz_i
#                     = sum_l q_il g_il,
#
# using d k / dz = k d(log k)/dz.  So d(log q_ij)/dz_i = g_ij - sum_l q_il g_il.
#
# Step 3, assemble, using sum_j p_ij = 1 (each row of P is a distribution):
#
#     dL/dz_i = -sum_j p_ij (g_ij - sum_l q_il g_il)
#             = -sum_j p_ij g_ij + (sum_j p_ij) sum_l q_il g_il
#             = -sum_j p_ij g_ij + sum_j q_ij g_ij  =  -sum_j (p_ij - q_ij) g_ij.
#
# The "+ sum_j q_ij g_ij" is the log-normaliser's term: it is where q enters the gradient.
# Substituting g_ij from step 1 gives Eq. (4).
#
# ## The derivation of Eq. (5)
#
# mu_j appears in EVERY row i, but in row i only in one kernel, k_ij, and therefore in only
# the j-th term of S_i.  Write h_ij = d(log k_ij)/dmu_j.  Since d u_ij / dmu_j =
# -2 (z_i - mu_j)/alpha,
#
#     h_ij = +((alpha+1)/alpha) u_ij^(-1) (z_i - mu_j).
#
# For the column l of row i: d(log k_il)/dmu_j = delta_lj h_ij (only l = j depends on mu_j),
# and d(log S_i)/dmu_j = (1/S_i) d k_ij / dmu_j = q_ij h_ij.  So
#
#     d(log q_il)/dmu_j = (delta_lj - q_ij) h_ij,
#     dL/dmu_j = -sum_i sum_l p_il (delta_lj - q_ij) h_ij
#              = -sum_i (p_ij - q_ij sum_l p_il) h_ij  =  -sum_i (p_ij - q_ij) h_ij,
#
# again with sum_l p_il = 1: a sum over the points i, and Eq. (5) after substituting h_ij.
#
# **Both at once.** With c_ij = ((alpha+1)/alpha)(p_ij - q_ij) / u_ij (an N x k matrix),
# dL/dz_i = sum_j c_ij (z_i - mu_j) and dL/dmu_j = -sum_i c_ij (z_i - mu_j); as matrix
# products, dz = rowsum(c) * z - c @ mu and dmu = -(c.T @ z - colsum(c) * mu), which is what
# `dec_np.kl_gradients` computes.

# %%
import numpy as np
from _common import check, claim, exercise, show, start, summary

start("06_kl_gradients")
rng = np.random.default_rng(0)
N, k, d = 12, 3, 4
z = rng.standard_normal((N, d))
mu = rng.standard_normal((k, d)) * 1.5
print(f"data: random z ({N} x {d}) and mu ({k} x {d}), float64, seed 0 (no image data)")

import matplotlib.pyplot as plt  # noqa: E402

from dec_np import kl_divergence, kl_gradients, soft_assignment, target_distribution  # noqa: E402
from dec_np.gradcheck import numerical_gradient, rel_error  # noqa: E402

# %% [markdown]
# ## 1. Your gradients, checked by finite differences for several alpha
#
# **Exercise 1.** `dL_dz`, Eq. (4).  **Exercise 2.** `dL_dmu`, Eq. (5).  Loops over i and j
# straight from the formulas are fine; broadcasting (z[:, None, :] - mu[None, :, :], shape
# (N, k, d)) is shorter.  The reference is the centred difference (L(x + h) - L(x - h)) / 2h,
# h = 1e-5, of `kl_divergence(p, soft_assignment(z, mu, alpha))` with p fixed, element by
# element, one check per alpha (so a prefactor that is right for one alpha only shows as
# exactly that): the max relative error printed should be **below 1e-6**.

# %%
@exercise
def dL_dz(z, mu, p, q, alpha=1.0):
    """Eq. (4): dL/dz_i = ((alpha+1)/alpha) sum_j (1 + |z_i-mu_j|^2/alpha)^-1 (p_ij - q_ij)(z_i - mu_j).

    z : (N, d), mu : (k, d), p, q : (N, k) (p held fixed).  Returns (N, d).
    """
    # YOUR CODE HERE
    raise NotImplementedError("dL_dz: Eq. (4)")
    # END OF YOUR CODE


@exercise
def dL_dmu(z, mu, p, q, alpha=1.0):
    """Eq. (5): dL/dmu_j = -((alpha+1)/alpha) sum_i (1 + |z_i-mu_j|^2/alpha)^-1 (p_ij - q_ij)(z_i - mu_j).

    Same arguments as dL_dz.  Returns (k, d).
    """
    # YOUR CODE HERE
    raise NotImplementedError("dL_dmu: Eq. (5)")
    # END OF YOUR CODE


alphas = [0.25, 0.5, 1.0, 2.0, 5.0, 20.0]
P = {a: target_distribution(soft_assignment(z, mu, a)) for a in alphas}  # fixed from here on
Q = {a: soft_assignment(z, mu, a) for a in alphas}
loss = lambda a: (lambda _: kl_divergence(P[a], soft_assignment(z, mu, a)))
num_dz = {a: numerical_gradient(loss(a), z) for a in alphas}
num_dmu = {a: numerical_gradient(loss(a), mu) for a in alphas}
for a in alphas:
    check(f"dL_dz, alpha = {a:g}", lambda a=a: {"dz": dL_dz(z, mu, P[a], Q[a], a)},
          {"dz": num_dz[a]}, rtol=1e-5, atol=1e-8,
          against="finite differences of KL(P || Q(z)), P fixed")
for a in alphas:
    check(f"dL_dmu, alpha = {a:g}", lambda a=a: {"dmu": dL_dmu(z, mu, P[a], Q[a], a)},
          {"dmu": num_dmu[a]}, rtol=1e-5, atol=1e-8,
          against="finite differences of KL(P || Q(mu)), P fixed")

# From here on the package's kl_gradients (the matrix-product form) is used.
errors = {"dz": [], "dmu": []}
for a in alphas:
    dz, dmu = kl_gradients(z, mu, P[a], Q[a], a)
    errors["dz"].append(rel_error(dz, num_dz[a]))
    errors["dmu"].append(rel_error(dmu, num_dmu[a]))
    print(f"alpha = {a:5g}: kl_gradients vs finite differences, rel error "
          f"dz {errors['dz'][-1]:.1e}, dmu {errors['dmu'][-1]:.1e}")
claim("kl_gradients agrees with finite differences to 1e-6 for every alpha",
      max(errors["dz"] + errors["dmu"]) < 1e-6, worst=max(errors["dz"] + errors["dmu"]))

# %% [markdown]
# ## 2. The matrix-product form is the double sum
#
# One explicit loop over i and j, straight from Eq. (4), against `kl_gradients`.

# %%
alpha = 1.0
q, p = Q[alpha], P[alpha]
dz_loop = np.zeros_like(z)
for i in range(N):
    for j in range(k):
        u = 1 + np.sum((z[i] - mu[j]) ** 2) / alpha
        dz_loop[i] += (alpha + 1) / alpha / u * (p[i, j] - q[i, j]) * (z[i] - mu[j])
dz, dmu = kl_gradients(z, mu, p, q, alpha)
claim("The loop over Eq. (4) equals kl_gradients to rounding", rel_error(dz_loop, dz) < 1e-12,
      rel_error=rel_error(dz_loop, dz))

# %% [markdown]
# ## 3. Two things worth noticing
#
# - The forces on the centroids balance the forces on the points:
#   sum_i dL/dz_i + sum_j dL/dmu_j = sum_ij c_ij (z_i - mu_j) - sum_ij c_ij (z_i - mu_j) = 0.
#   L depends only on the differences z_i - mu_j, so shifting everything changes nothing.
# - A point whose p row equals its q row feels no force at all (every c_ij = 0).

# %%
total_force = dz.sum(axis=0) + dmu.sum(axis=0)
claim("The forces sum to zero", bool(np.abs(total_force).max() < 1e-12),
      largest=float(np.abs(total_force).max()))
dz_same, dmu_same = kl_gradients(z, mu, q, q, 1.0)
claim("With p = q every gradient is zero", bool(np.allclose(dz_same, 0) and np.allclose(dmu_same, 0)))

# %% [markdown]
# ## 4. Why P is held fixed: the gradient through P chases itself
#
# P is computed from Q (Eq. 3), so one could differentiate L(z) = KL(P(Q(z)) || Q(z)) through
# both.  Finite differences give that full gradient (P recomputed inside the loss, f_j over
# all 12 points) beside Eq. (4)'s.  Then 40 steps of gradient descent on z (mu fixed,
# lr 1.0) with each: DEC's way (P fixed, refreshed every 10 steps, as `update_interval`
# does) and the full gradient.  We track the mean confidence, mean_i max_j q_ij.

# %%
full_loss = lambda zz: kl_divergence(target_distribution(soft_assignment(zz, mu)),
                                     soft_assignment(zz, mu))
g_fixed = kl_gradients(z, mu, P[1.0], Q[1.0])[0]
g_full = numerical_gradient(lambda _: full_loss(z), z)
cos = float((g_fixed * g_full).sum() / np.linalg.norm(g_fixed) / np.linalg.norm(g_full))
print(f"full gradient vs P-fixed gradient: rel error {rel_error(g_full, g_fixed):.2f}, "
      f"cosine {cos:.3f}")
claim("The gradient through P points against DEC's P-fixed gradient (cosine below -0.9)",
      cos < -0.9, cosine=cos)
confidence = lambda zz: float(soft_assignment(zz, mu).max(axis=1).mean())
paths = {}
for how in ("P fixed", "through P"):
    zz, conf = z.copy(), [confidence(z)]
    for t in range(40):
        if how == "P fixed":
            if t % 10 == 0:
                p_t = target_distribution(soft_assignment(zz, mu))
            step = kl_gradients(zz, mu, p_t, soft_assignment(zz, mu))[0]
        else:
            step = numerical_gradient(lambda _: full_loss(zz), zz)
        zz -= 1.0 * step
        conf.append(confidence(zz))
    paths[how] = (conf, full_loss(zz))
    print(f"{how:>9s}: mean confidence {conf[0]:.3f} -> {conf[-1]:.3f}, "
          f"KL(P(Q) || Q) {full_loss(z):.3f} -> {paths[how][1]:.3f}")
claim("With P fixed the assignments sharpen (mean confidence rises)",
      paths["P fixed"][0][-1] > paths["P fixed"][0][0], start=paths["P fixed"][0][0],
      end=paths["P fixed"][0][-1])
claim("Through P the assignments blur (mean confidence falls) while KL(P(Q) || Q) drops",
      paths["through P"][0][-1] < paths["through P"][0][0] and paths["through P"][1] < full_loss(z),
      start=paths["through P"][0][0], end=paths["through P"][0][-1])

# %% [markdown]
# What went wrong: L(z) = KL(P(Q) || Q) measures how much sharper the target is than Q
# itself.  Moving both ends at once, the cheapest way down is to make the target no sharper
# than Q, by flattening Q: a row with equal entries and equal f_j has P = Q exactly, so a
# blurred Q is a minimum (L = 0) of the full loss.  The target chases Q instead of leading it;
# the full gradient points almost exactly the other way (cosine above).  Holding P fixed makes
# Q move towards the sharper target, which is the self-training DEC wants; refreshing P every
# few steps then sharpens it further.
#
# **Inline question 1.** In the "P fixed" run, P is refreshed at steps 0, 10, 20 and 30.  What
# would its confidence curve (figure, right panel) do if P were never refreshed?
#
# **Inline question 2.** Which points have the largest |dL/dz_i|: confident ones, or ones
# halfway between two centroids?  (Look at c_ij; tutorial 07 draws the paper's Fig. 4.)

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
ax = axes[0]
x = np.arange(len(alphas))
ax.bar(x - 0.2, errors["dz"], 0.4, label="dL/dz (Eq. 4)")
ax.bar(x + 0.2, errors["dmu"], 0.4, label="dL/dmu (Eq. 5)")
ax.axhline(1e-6, color="r", ls="--", lw=1, label="tolerance 1e-6")
ax.set_yscale("log")
ax.set_xticks(x, [f"{a:g}" for a in alphas])
ax.set_xlabel("alpha (degrees of freedom)")
ax.set_ylabel("relative error vs finite differences")
ax.set_title("KL gradients checked in float64", fontsize=10)
ax.legend(fontsize=8)
ax.grid(alpha=0.3, axis="y", which="both")
ax = axes[1]
for how, style in (("P fixed", "C0-"), ("through P", "C3--")):
    ax.plot(paths[how][0], style, label=how)
ax.set_xlabel("gradient step on z (lr 1.0)")
ax.set_ylabel("mean_i max_j q_ij")
ax.set_title("P fixed sharpens Q; the gradient through P blurs it", fontsize=10)
ax.legend(fontsize=8)
ax.grid(alpha=0.3)
fig.tight_layout()
show(fig, "06_gradcheck_alpha.png")

# %% [markdown]
# ## Exercises
#
# 1. (Derivation) Show that sum_j dL/dmu_j = -sum_i dL/dz_i without the formulas, from
#    L(z_1 + t, ..., mu_k + t) = L for every shift t.
# 2. (Derivation) For alpha -> infinity, show that Eq. (4) tends to
#    sum_j (p_ij - q_ij)(z_i - mu_j), the gradient of the same loss with a Gaussian kernel
#    exp(-|z_i - mu_j|^2 / 2).
# 3. (Derivation) Redo step 3 of the derivation without assuming sum_j p_ij = 1.  Which term
#    remains, and why must P's rows be normalised for `kl_gradients` to be right?
# 4. (Derivation) Show that a row with q_ij = 1/k for all j and all f_j equal gives P = Q, so
#    KL(P(Q) || Q) = 0 there: the minimum the full gradient of section 4 heads for.
# 5. Chain dL/dz into the encoder (`Sequential.backward(dz)`) of a small `StackedAutoencoder`
#    in float64 and check dL/dW of its first layer with `dec_np.gradcheck.directional_check`.
# 6. Repeat section 4 with P refreshed every step but still held fixed while differentiating
#    (`if t % 1 == 0`).  Does Q still sharpen?

# %%
summary()

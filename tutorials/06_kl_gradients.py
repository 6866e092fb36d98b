# %% [markdown]
# # 06 · Deriving dL/dz_i and dL/dmu_j, and checking them for several alpha
#
# **What this teaches.** Sec. 3.1.3 of the paper, Eq. (4) and (5): the gradients of
# L = KL(P || Q) with respect to the embedded points z_i and the centroids mu_j, with P
# held fixed (it is a target, recomputed only every `update_interval` steps).  We derive
# them for a general alpha, code them as two matrix products, and check them against
# centred finite differences in float64 for several alpha.
#
# Run it: `python tutorials/06_kl_gradients.py` (a few seconds, any mode).
#
# ## The derivation
#
# Write d_ij = |z_i - mu_j|^2, u_ij = 1 + d_ij / alpha, a = (alpha + 1) / 2, and the
# kernel k_ij = u_ij^(-a), so q_ij = k_ij / sum_j' k_ij'.  With P fixed,
#
#     L = sum_ij p_ij log p_ij - sum_ij p_ij log q_ij,
#     log q_ij = -a log u_ij - log sum_j' u_ij'^(-a).
#
# Only row i depends on z_i.  Using sum_j p_ij = 1 and
# d(log u_ij)/dz_i = 2 (z_i - mu_j) / (alpha u_ij):
#
#     dL/dz_i = a sum_j p_ij d(log u_ij)/dz_i - a sum_j' q_ij' d(log u_ij')/dz_i
#             = (2a / alpha) sum_j (p_ij - q_ij) u_ij^(-1) (z_i - mu_j)
#             = ((alpha + 1) / alpha) sum_j (1 + d_ij/alpha)^(-1) (p_ij - q_ij)(z_i - mu_j)  (4)
#
# and, since d(log u_ij)/dmu_j = -d(log u_ij)/dz_i for the same pair,
#
#     dL/dmu_j = -((alpha + 1) / alpha) sum_i (1 + d_ij/alpha)^(-1) (p_ij - q_ij)(z_i - mu_j) (5)
#
# With c_ij = ((alpha+1)/alpha) (p_ij - q_ij) / u_ij both are matrix products:
# dz = rowsum(c) * z - c @ mu and dmu = -(c.T @ z - colsum(c) * mu), which is what
# `dec_np.kl_gradients` computes.  (The paper prints Eq. 4-5 for alpha = 1, where the
# prefactor (alpha+1)/alpha is 2.)

# %%
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from _common import figure_path  # noqa: E402

from dec_np import kl_divergence, kl_gradients, soft_assignment, target_distribution  # noqa: E402
from dec_np.gradcheck import numerical_gradient, rel_error, report  # noqa: E402

rng = np.random.default_rng(0)
N, k, d = 12, 3, 4
z = rng.standard_normal((N, d))
mu = rng.standard_normal((k, d)) * 1.5

# %% [markdown]
# ## 1. One explicit loop, straight from Eq. (4), against the vectorised version

# %%
alpha = 1.0
q = soft_assignment(z, mu, alpha)
p = target_distribution(q)
dz_loop = np.zeros_like(z)
for i in range(N):
    for j in range(k):
        u = 1 + np.sum((z[i] - mu[j]) ** 2) / alpha
        dz_loop[i] += (alpha + 1) / alpha / u * (p[i, j] - q[i, j]) * (z[i] - mu[j])
dz, dmu = kl_gradients(z, mu, p, q, alpha)
print("loop vs kl_gradients, rel error:", rel_error(dz_loop, dz))

# %% [markdown]
# ## 2. Finite differences for several alpha
#
# The loss as a function of z (or mu) recomputes q but keeps p fixed, exactly the
# quantity Eq. (4)-(5) differentiate.

# %%
alphas = [0.25, 0.5, 1.0, 2.0, 5.0, 20.0]
errors = {"dz": [], "dmu": []}
for alpha in alphas:
    q = soft_assignment(z, mu, alpha)
    p = target_distribution(q)  # fixed from here on
    dz, dmu = kl_gradients(z, mu, p, q, alpha)
    num_dz = numerical_gradient(lambda _: kl_divergence(p, soft_assignment(z, mu, alpha)), z)
    num_dmu = numerical_gradient(lambda _: kl_divergence(p, soft_assignment(z, mu, alpha)), mu)
    e = {"dz": rel_error(dz, num_dz), "dmu": rel_error(dmu, num_dmu)}
    print(report(e, tol=1e-6, title=f"alpha = {alpha}"))
    for key in errors:
        errors[key].append(e[key])

# %% [markdown]
# ## 3. Two things worth noticing
#
# - The gradients on the centroids balance the gradients on the points:
#   sum_i dL/dz_i + sum_j dL/dmu_j = 0, because L depends only on the differences z_i - mu_j
#   (shifting everything changes nothing).
# - A point whose p row equals its q row feels no force at all.

# %%
q = soft_assignment(z, mu, 1.0)
p = target_distribution(q)
dz, dmu = kl_gradients(z, mu, p, q, 1.0)
print("sum of all forces:", dz.sum(axis=0) + dmu.sum(axis=0))
dz_same, _ = kl_gradients(z, mu, q, q, 1.0)
print("with p = q every gradient is zero:", np.allclose(dz_same, 0))

fig, ax = plt.subplots(figsize=(5.5, 3.4))
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
fig.tight_layout()
fig.savefig(figure_path("06_gradcheck_alpha.png"), dpi=100)
plt.close(fig)
print("wrote", figure_path("06_gradcheck_alpha.png"))
assert max(errors["dz"] + errors["dmu"]) < 1e-6

# %% [markdown]
# ## What to try next
#
# - Let p depend on z too (recompute it inside the loss): the check fails, because DEC's
#   gradient treats P as a constant target.  By how much?
# - Chain dL/dz into the encoder (`Sequential.backward(dz)`) and check dL/dW of the first
#   layer with `dec_np.gradcheck.directional_check`.
# - Tutorial 07 runs the whole algorithm.

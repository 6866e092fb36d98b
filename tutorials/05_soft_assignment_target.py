# %% [markdown]
# # 05 · The soft assignment Q and the target distribution P
#
# **What this teaches.** Sec. 3.1 of the paper.  DEC measures how much point z_i belongs
# to centroid mu_j with a Student's t kernel (Eq. 1),
#
#     q_ij = (1 + |z_i - mu_j|^2 / alpha)^(-(alpha+1)/2)  /  sum_j' (same for j'),
#
# and trains towards an auxiliary target (Eq. 3),
#
#     p_ij = (q_ij^2 / f_j) / sum_j' (q_ij'^2 / f_j'),   f_j = sum_i q_ij,
#
# by minimising KL(P || Q) (Eq. 2).  Squaring sharpens each row (self-training: trust the
# confident assignments); dividing by the soft cluster size f_j keeps big clusters from
# swallowing small ones.  We see both on small worked tables.
#
# Run it: `python tutorials/05_soft_assignment_target.py` (about a second, any mode).

# %%
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from _common import figure_path  # noqa: E402

from dec_np import kl_divergence, soft_assignment, target_distribution  # noqa: E402

np.set_printoptions(precision=3, suppress=True)


def table(title, z, q, p, rows=None):
    """Print z, q and p for the given rows (default all), and f_j over all points."""
    print(title)
    print("  point   z        q (cluster 0, 1)    p (cluster 0, 1)")
    for i in range(len(q)) if rows is None else rows:
        print(f"  {i:>5d}   {z[i, 0]:5.2f}    {q[i, 0]:.3f}  {q[i, 1]:.3f}"
              f"        {p[i, 0]:.3f}  {p[i, 1]:.3f}")
    print(f"  f_j = sum_i q_ij over all {len(q)} points = {q.sum(axis=0)}\n")


# %% [markdown]
# ## 1. The kernel by hand, for two centroids on a line
#
# With alpha = 1 the kernel is `1 / (1 + d^2)`.  A point at 0.5 from mu_0 = 0 and at 3.5
# from mu_1 = 4: kernels 1/1.25 = 0.8 and 1/13.25 = 0.0755, so q = (0.914, 0.086).

# %%
mu = np.array([[0.0], [4.0]])
z = np.array([[0.5]])
k = 1.0 / (1.0 + (z - mu.T) ** 2)
print("kernels:", k, " q by hand:", k / k.sum(), " soft_assignment:", soft_assignment(z, mu))

# %% [markdown]
# ## 2. Squaring sharpens
#
# Balanced clusters (f_0 = f_1), so only the squaring acts.  Confident points get more
# confident; a point halfway stays at 0.5; the confident points therefore dominate the
# gradient (tutorial 06, and Fig. 4 in tutorial 07).

# %%
z = np.array([[-0.5], [0.5], [1.5], [2.0], [2.5], [3.5], [4.5]])
q = soft_assignment(z, mu)
p = target_distribution(q)
table("Balanced: points symmetric around 2", z, q, p)

# %% [markdown]
# ## 3. Dividing by f_j protects small clusters
#
# Now cluster 0 has many members and cluster 1 few.  Without the division, p would push
# every ambiguous point towards the big cluster (it already owns more of the soft
# mass); with it, the big cluster's pull is discounted by its size.  We compare p with
# and without the 1/f_j factor on the same q.

# %%
z = np.vstack([np.linspace(-1.0, 1.0, 12)[:, None], [[2.0]], [[3.0]], [[4.0]], [[5.0]]])
q = soft_assignment(z, mu)
p = target_distribution(q)
p_no_f = q ** 2 / (q ** 2).sum(axis=1, keepdims=True)  # squaring only
table("Imbalanced: 12 points near mu_0 (the last 2 shown), 4 towards mu_1", z, q, p,
      rows=range(10, 16))
print("the halfway point z = 2.0:")
print(f"  q = {q[12]},  p without 1/f = {p_no_f[12]},  p with 1/f = {p[12]}")
print(f"  f = {q.sum(axis=0)}: the big cluster's weight is divided by {q.sum(axis=0)[0]:.1f}")
print(f"KL(P || Q) summed over points: {kl_divergence(p, q):.4f}")

# %% [markdown]
# ## 4. Pictures: q and p along a line, and the role of alpha
#
# Left: q_i0 and p_i0 for probe points along the line, with f_j taken from the
# imbalanced example (12 points near mu_0, 4 towards mu_1) or from balanced data.
# Right: the Student's t kernel for several alpha against a Gaussian;
# its heavy tail keeps some gradient for far points (alpha = 1 in all the paper's
# experiments, since it cannot be cross-validated without labels).

# %%
line = np.linspace(-2, 6, 161)[:, None]
q_line = soft_assignment(line, mu)


def p_given_f(q, f):
    """Eq. (3) for probe points that do not count in f (f from the data set)."""
    w = q ** 2 / f
    return w / w.sum(axis=1, keepdims=True)


p_imb = p_given_f(q_line, q.sum(axis=0))  # f of the imbalanced 16 points above
p_bal = p_given_f(q_line, np.ones(2))  # equal cluster sizes
fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
ax = axes[0]
ax.plot(line, q_line[:, 0], "C0-", label="q_i0 (Eq. 1)")
ax.plot(line, p_imb[:, 0], "C3-", label="p_i0 (Eq. 3), f of the imbalanced data")
ax.plot(line, p_bal[:, 0], "C3:", label="p_i0 if the data were balanced")
ax.axvline(0, color="k", lw=0.8)
ax.axvline(4, color="k", lw=0.8)
ax.text(0.1, 0.45, "mu_0\n(big)", fontsize=8)
ax.text(4.1, 0.45, "mu_1\n(small)", fontsize=8)
ax.set_xlabel("position of point z_i")
ax.set_ylabel("share of cluster 0")
ax.set_title("Squaring sharpens; 1/f_j shifts the boundary to the big cluster", fontsize=9)
ax.legend(fontsize=7)
ax.grid(alpha=0.3)
ax = axes[1]
d = np.linspace(0, 6, 200)
for alpha in (0.5, 1.0, 5.0, 100.0):
    ax.plot(d, (1 + d ** 2 / alpha) ** (-(alpha + 1) / 2), label=f"Student's t, alpha = {alpha:g}")
ax.plot(d, np.exp(-d ** 2 / 2), "k--", label="Gaussian exp(-d^2/2)")
ax.set_yscale("log")
ax.set_ylim(1e-6, 1.5)
ax.set_xlabel("distance |z_i - mu_j|")
ax.set_ylabel("kernel (unnormalised q)")
ax.set_title("Heavy tails: the kernel of Eq. (1)", fontsize=9)
ax.legend(fontsize=7)
ax.grid(alpha=0.3, which="both")
fig.tight_layout()
fig.savefig(figure_path("05_q_and_p.png"), dpi=100)
plt.close(fig)
print("wrote", figure_path("05_q_and_p.png"))

# %% [markdown]
# ## What to try next
#
# - Iterate `q <- target_distribution(q)` a few times on a row: where does it converge?
#   (That is why DEC refreshes P only every `update_interval` steps.)
# - Replace `q ** 2` by `q ** 3` or `q ** 1.5` and look at the tables.
# - Tutorial 06 derives the gradients of KL(P || Q) that make z and mu move.

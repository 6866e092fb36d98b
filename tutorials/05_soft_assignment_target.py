# %% [markdown]
# # 05 · The soft assignment Q and the target distribution P
#
# **What you will be able to do.** Compute DEC's soft assignment q_ij (Eq. 1, any alpha) and
# its target p_ij (Eq. 3) yourself; say where the Student's t kernel comes from and why its
# heavy tails matter; and predict, on a small table, what the squaring and the division by
# the cluster frequency f_j each do to a point's target.
#
# **The paper (Sec. 3.1).** DEC measures how much the embedded point z_i belongs to the
# centroid mu_j with a Student's t kernel (Eq. 1),
#
#     q_ij = (1 + |z_i - mu_j|^2 / alpha)^(-(alpha+1)/2)  /  sum_j' (1 + |z_i - mu_j'|^2 / alpha)^(-(alpha+1)/2),
#
# and trains towards an auxiliary target (Eq. 3),
#
#     p_ij = (q_ij^2 / f_j) / sum_j' (q_ij'^2 / f_j'),     f_j = sum_i q_ij  (soft cluster size),
#
# by minimising L = KL(P || Q) = sum_i sum_j p_ij log(p_ij / q_ij) (Eq. 2); tutorial 06 derives
# its gradients.  **Data:** small hand-made tables of points on a line (d = 1) with two
# centroids, mu_0 = 0 and mu_1 = 4, and random points for the checks; no images.  The
# lesson does the same (seconds of) work in every mode.

# %%
import numpy as np
from _common import check, claim, exercise, show, start, summary

start("05_soft_assignment_target")
print("data: hand-made points on a line, centroids mu_0 = 0 and mu_1 = 4; random z, mu "
      "for the checks (no image data)")

import matplotlib.pyplot as plt  # noqa: E402

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
# ## 1. The kernel: a Student's t, as in t-SNE
#
# The Student's t density with nu degrees of freedom is proportional to
# (1 + t^2 / nu)^(-(nu+1)/2).  Eq. (1) evaluates it at t = |z_i - mu_j| with nu = alpha and
# normalises over the centroids.  (A d-dimensional t density would have the exponent
# (alpha + d)/2; DEC keeps the one-dimensional exponent and applies it to the distance.)
# The choice comes from t-SNE (van der Maaten & Hinton, 2008): its low-dimensional map
# compares pairs of points with a Student's t with ONE degree of freedom,
# (1 + |y_i - y_j|^2)^(-1), whose heavy tail lets moderately distant points sit far apart
# without a large penalty (the "crowding problem" of a Gaussian kernel).  DEC uses the same
# kernel between points and centroids, with alpha = 1 in all its experiments: with no labels
# alpha cannot be cross-validated.  Two facts to check below: the tail decays like
# |z - mu|^(-(alpha+1)), polynomially, so far points keep a share of q (and a gradient); and
# as alpha -> infinity, (1 + d^2/alpha)^(-(alpha+1)/2) -> exp(-d^2/2), a Gaussian.
#
# By hand, alpha = 1: a point at z = 0.5 has d^2 = 0.25 to mu_0 and 12.25 to mu_1; the
# kernels are 1/1.25 = 0.8 and 1/13.25 = 0.0755, so q = (0.8, 0.0755) / 0.8755 = (0.914, 0.086).
#
# **Exercise 1.** Write `student_t_q` for any alpha: all N x k squared distances at once
# (broadcast z[:, None, :] - mu[None, :, :] and sum over the last axis), the kernel, then
# normalise each row.

# %%
@exercise
def student_t_q(z, mu, alpha=1.0):
    """Soft assignment, Eq. (1).

    z : (N, d) embedded points, mu : (k, d) centroids, alpha > 0.
    Returns q : (N, k), q_ij = (1 + |z_i - mu_j|^2/alpha)^(-(alpha+1)/2) / sum over j.
    """
    # YOUR CODE HERE (3 lines)
    raise NotImplementedError("student_t_q: Eq. (1)")
    # END OF YOUR CODE


mu = np.array([[0.0], [4.0]])
kernel = 1.0 / (1.0 + (np.array([[0.5]]) - mu.T) ** 2)
print("kernels:", kernel, " q by hand:", kernel / kernel.sum(),
      " soft_assignment:", soft_assignment(np.array([[0.5]]), mu))
rng = np.random.default_rng(0)
z_r, mu_r = rng.standard_normal((20, 3)), 2.0 * rng.standard_normal((4, 3))
alphas = (0.5, 1.0, 2.0, 10.0)
check("student_t_q for alpha = 0.5, 1, 2, 10",
      lambda: {f"q (alpha = {a:g})": student_t_q(z_r, mu_r, a) for a in alphas},
      {f"q (alpha = {a:g})": soft_assignment(z_r, mu_r, a) for a in alphas}, rtol=1e-10,
      against="dec_np.soft_assignment")
d = 6.0
k_t, k_gauss = (1 + d ** 2) ** -1.0, np.exp(-d ** 2 / 2)
print(f"kernel at distance {d:g}: Student's t (alpha = 1) {k_t:.3g}, Gaussian {k_gauss:.3g}")
claim("At distance 6 the alpha = 1 kernel is over 1e5 times the Gaussian's (heavy tail)",
      k_t > 1e5 * k_gauss, ratio=k_t / k_gauss)
big = (1 + d ** 2 / 1e6) ** (-(1e6 + 1) / 2)
claim("With alpha = 1e6 the kernel at distance 6 is the Gaussian's to within 1%",
      abs(big / k_gauss - 1) < 0.01, ratio=big / k_gauss)

# %% [markdown]
# ## 2. The target P, and the three things the paper asks of it
#
# The paper wants P to (i) strengthen the predictions (purer clusters), (ii) put more emphasis
# on points assigned with high confidence, and (iii) normalise each centroid's contribution
# to the loss, so that large clusters do not distort the embedding.  Eq. (3) does (i)-(ii)
# by squaring q_ij and (iii) by dividing by f_j, then renormalises each row.  f_j is summed
# over ALL points (the whole data set in DEC), so p of one point depends on the others.
#
# **Exercise 2.** Write `target_p`.

# %%
@exercise
def target_p(q):
    """Target distribution, Eq. (3).

    q : (N, k), rows summing to 1.  Returns p : (N, k),
    p_ij = (q_ij^2 / f_j) / sum_j' (q_ij'^2 / f_j') with f_j = sum_i q_ij.
    """
    # YOUR CODE HERE (2 lines)
    raise NotImplementedError("target_p: Eq. (3)")
    # END OF YOUR CODE


q_r = soft_assignment(z_r, mu_r)
check("target_p on a random 20 x 4 q", lambda: target_p(q_r), target_distribution(q_r),
      rtol=1e-10, against="dec_np.target_distribution", names="p")

# %% [markdown]
# ## 3. Squaring sharpens
#
# With two clusters of equal soft size (f_0 = f_1) only the squaring acts.  Write q for q_i0,
# so q_i1 = 1 - q; then p_i0 = q^2 / (q^2 + (1 - q)^2) and
#
#     p_i0 > q  <=>  q > q^2 + (1 - q)^2  <=>  2q^2 - 3q + 1 < 0  <=>  (2q - 1)(q - 1) < 0
#               <=>  1/2 < q < 1.
#
# A point leaning to a cluster is pushed further towards it; a point exactly halfway stays at
# 1/2.  Points symmetric around z = 2 give f_0 = f_1:

# %%
z_bal = np.array([[-0.5], [0.5], [1.5], [2.0], [2.5], [3.5], [4.5]])
q_bal = soft_assignment(z_bal, mu)
p_bal = target_distribution(q_bal)
table("Balanced: points symmetric around 2", z_bal, q_bal, p_bal)
lean = np.abs(q_bal[:, 0] - 0.5) > 1e-9
claim("Every point that leans to a cluster gets a sharper target (max_j p_ij > max_j q_ij)",
      bool(np.all(p_bal[lean].max(axis=1) > q_bal[lean].max(axis=1))))
claim("The point halfway (z = 2) keeps p = (0.5, 0.5)", bool(np.allclose(p_bal[3], 0.5)),
      p_i0=float(p_bal[3, 0]))

# %% [markdown]
# ## 4. Dividing by f_j: what it does, and what squaring alone does not
#
# Now 12 points crowd around mu_0 and 4 lie towards mu_1: cluster 0 is big, cluster 1
# small (the run prints f).  For two clusters Eq. (3) gives the odds
#
#     p_i1 / p_i0 = (q_i1 / q_i0)^2 * (f_0 / f_1).
#
# **Squaring alone** (drop the 1/f_j) uses only row i: it is blind to cluster size, and the
# point halfway (q = (0.5, 0.5)) keeps p = (0.5, 0.5).  **With 1/f_j** its odds are multiplied
# by f_0 / f_1 > 1: the ambiguous point's target tilts towards the SMALL cluster.  The
# boundary of the target (p_i0 = p_i1) moves to q_i0 / q_i1 = sqrt(f_0 / f_1), closer to the
# big centroid, so the small cluster's territory grows.  Counted over all points, squaring
# alone would move soft mass to the big cluster here (its many confident members sharpen
# towards it); the division gives part of that mass back.

# %%
z_imb = np.vstack([np.linspace(-1.0, 1.0, 12)[:, None], [[2.0]], [[3.0]], [[4.0]], [[5.0]]])
q_imb = soft_assignment(z_imb, mu)
p_imb = target_distribution(q_imb)
p_no_f = q_imb ** 2 / (q_imb ** 2).sum(axis=1, keepdims=True)  # squaring only
f_imb = q_imb.sum(axis=0)
table("Imbalanced: 12 points near mu_0 (the last 2 shown), 4 towards mu_1", z_imb, q_imb, p_imb,
      rows=range(10, 16))
print("the halfway point z = 2.0:")
print(f"  q = {q_imb[12]},  p without 1/f = {p_no_f[12]},  p with 1/f = {p_imb[12]}")
print(f"  f = {f_imb}: the odds of cluster 1 are multiplied by f_0/f_1 = {f_imb[0] / f_imb[1]:.2f}")
claim("Squaring alone is blind to cluster size: the halfway point keeps p = (0.5, 0.5)",
      bool(np.allclose(p_no_f[12], 0.5)), p_i1=float(p_no_f[12, 1]))
claim("Dividing by f_j tilts the ambiguous point towards the SMALL cluster (p_i1 > 0.5)",
      p_imb[12, 1] > 0.5, p_i1=float(p_imb[12, 1]))
share = lambda m: float(m.sum(axis=0)[1] / m.sum(axis=0)[0])  # small cluster's mass / big's
print(f"small/big soft mass: Q {share(q_imb):.3f}, squaring only {share(p_no_f):.3f}, "
      f"P {share(p_imb):.3f}")
claim("Squaring alone shifts soft mass to the big cluster, and 1/f_j gives part of it back",
      share(p_no_f) < share(q_imb) and share(p_no_f) < share(p_imb),
      Q=share(q_imb), squaring_only=share(p_no_f), P=share(p_imb))
print(f"KL(P || Q) summed over the 16 points: {kl_divergence(p_imb, q_imb):.4f}")

# %% [markdown]
# ## 5. Pictures: q and p along a line, and the role of alpha
#
# Left: q_i0 and p_i0 for probe points along the line, with f_j taken from the imbalanced
# example (or equal, as for balanced data); the probe points do not count in f.  Right: the
# kernel of Eq. (1) for several alpha against a Gaussian, on a log scale.

# %%
line = np.linspace(-2, 6, 801)[:, None]
q_line = soft_assignment(line, mu)


def p_given_f(q, f):
    """Eq. (3) for probe points that do not count in f (f from the data set)."""
    w = q ** 2 / f
    return w / w.sum(axis=1, keepdims=True)


p_line_imb = p_given_f(q_line, f_imb)
p_line_bal = p_given_f(q_line, np.ones(2))
boundary = lambda p0: float(line[np.argmax(p0 < 0.5), 0])  # first probe assigned to cluster 1
print(f"target boundary (p_i0 = 0.5): balanced {boundary(p_line_bal[:, 0]):.2f}, "
      f"imbalanced {boundary(p_line_imb[:, 0]):.2f}")
claim("With the imbalanced f the boundary of P moves towards the big centroid mu_0",
      boundary(p_line_imb[:, 0]) < boundary(p_line_bal[:, 0]),
      balanced=boundary(p_line_bal[:, 0]), imbalanced=boundary(p_line_imb[:, 0]))
fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
ax = axes[0]
ax.plot(line, q_line[:, 0], "C0-", label="q_i0 (Eq. 1)")
ax.plot(line, p_line_imb[:, 0], "C3-", label="p_i0 (Eq. 3), f of the imbalanced data")
ax.plot(line, p_line_bal[:, 0], "C3:", label="p_i0 if the clusters were balanced")
for x0, txt in ((0, "mu_0\n(big)"), (4, "mu_1\n(small)")):
    ax.axvline(x0, color="k", lw=0.8)
    ax.text(x0 + 0.1, 0.45, txt, fontsize=8)
ax.set_xlabel("position of point z_i")
ax.set_ylabel("share of cluster 0")
ax.set_title("Squaring sharpens; 1/f_j moves the boundary towards the big cluster", fontsize=9)
ax.legend(fontsize=7)
ax.grid(alpha=0.3)
ax = axes[1]
dist = np.linspace(0, 6, 200)
for alpha in (0.5, 1.0, 5.0, 100.0):
    ax.plot(dist, (1 + dist ** 2 / alpha) ** (-(alpha + 1) / 2), label=f"Student's t, alpha = {alpha:g}")
ax.plot(dist, np.exp(-dist ** 2 / 2), "k--", label="Gaussian exp(-d^2/2)")
ax.set_yscale("log")
ax.set_ylim(1e-6, 1.5)
ax.set_xlabel("distance |z_i - mu_j|")
ax.set_ylabel("kernel (unnormalised q)")
ax.set_title("Heavy tails: the kernel of Eq. (1)", fontsize=9)
ax.legend(fontsize=7)
ax.grid(alpha=0.3, which="both")
fig.tight_layout()
show(fig, "05_q_and_p.png")

# %% [markdown]
# **Inline question 1.** DEC recomputes P from Q only every `update_interval` steps, and
# between two updates trains Q towards a fixed P.  What would happen if P were recomputed
# from the current Q at every step and the loss differentiated through it?  (Tutorial 06,
# section 4, measures it.)
#
# **Inline question 2.** In the balanced table the point at z = 2 has p = q.  Does it feel any
# force in DEC's training?  Does that stay so once the clusters are imbalanced?
#
# ## Exercises
#
# 1. (Derivation) Show that (1 + d^2/alpha)^(-(alpha+1)/2) -> exp(-d^2/2) as alpha -> infinity
#    (take logs and use log(1 + x) = x - x^2/2 + ...).
# 2. (Derivation) For k clusters and equal f_j, show that p_ij = q_ij^2 / sum_j' q_ij'^2 keeps
#    the order of each row and raises its largest entry unless all its nonzero entries are
#    equal (hint: sum_j q_ij^2 <= max_j q_ij).
# 3. (Derivation) For two clusters, find the q_i0 at which p_i0 = 1/2 as a function of f_0/f_1
#    (answer: q_i0 = sqrt(f_0) / (sqrt(f_0) + sqrt(f_1))).  Check it on the imbalanced table.
# 4. Iterate `q <- target_distribution(q)` ten times on the imbalanced table.  Where does each
#    row go?  Why is it a bad idea to chase the target that quickly?
# 5. Replace `q ** 2` by `q ** 3` and by `q ** 1.5` in `target_p` and compare the tables.
# 6. Redo the balanced table with alpha = 0.5 and alpha = 10 (`soft_assignment(z, mu, alpha)`).
#    Which alpha gives the far points (z = -0.5, 4.5) the largest share of the other cluster?

# %%
summary()

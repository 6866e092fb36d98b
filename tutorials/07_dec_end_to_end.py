# %% [markdown]
# # 07 · DEC end to end on MNIST
#
# **What this teaches.** The whole algorithm of the paper on real data: pretrain the
# stacked denoising autoencoder (Sec. 3.2), run k-means on the embedding z to get the
# initial centroids mu (Sec. 3.3), then minimise KL(P || Q) (Eq. 2) by SGD on the encoder
# and the centroids together, with the target P (Eq. 3) recomputed every
# `update_interval` iterations (Sec. 3.1.3).  We watch accuracy rise over the iterations
# and redraw the paper's Figures 3, 4 and 5.
#
# **Modes and run time** (2 shared CPU cores, `OPENBLAS_NUM_THREADS=1`).
# `DEC_NP_FAST=1`: 1,500 images, a small network, ~15 s.  `DEC_NP_MEDIUM=1`: MNIST-10k
# (the 10,000 test images), the paper's 784-500-500-2000-10 network, shorter schedules
# (not timed; roughly a third of full).  Full mode (default): MNIST-10k, the paper's
# network, 30 layer-wise + 60 fine-tuning epochs, at most 8,000 DEC iterations: about 12
# minutes (pretraining 6, DEC 5).  Our full-mode run: k-means on pixels ACC 0.549,
# AE + k-means 0.660, DEC 0.701 (NMI 0.711) after 2,800 iterations, when fewer than 0.1%
# of the labels changed.  (The paper reports 84% on all 70,000 images with much longer
# pretraining.)  With a GPU, tutorial 08 shows the same on CuPy.

# %%
import time

import numpy as np
from _common import MODE, figure_path, load_data

from dec_np import DEC, StackedAutoencoder, kl_gradients, target_distribution
from dec_np.datasets import paper_scale
from dec_np.kmeans import kmeans
from dec_np.metrics import cluster_accuracy, nmi
from dec_np.plotting import (plot_cluster_examples, plot_confusion, plot_embedding_stages,
                             plot_gradient_magnitude, plot_training_curves)

SETTINGS = {
    "fast": dict(n=1500, hidden=(64, 64, 128, 10), layerwise=dict(epochs=10, batch_size=64),
                 finetune=dict(epochs=20, batch_size=64), max_iter=150, update_interval=30),
    "medium": dict(n=None, hidden=(500, 500, 2000, 10), layerwise=dict(epochs=8, batch_size=256),
                   finetune=dict(epochs=20, batch_size=256), max_iter=3000, update_interval=140),
    "full": dict(n=None, hidden=(500, 500, 2000, 10), layerwise=dict(epochs=30, batch_size=256),
                 finetune=dict(epochs=60, batch_size=256), max_iter=8000, update_interval=140),
}[MODE]
print(f"mode: {MODE}")

X, y, image_shape, data_name = load_data(SETTINGS["n"])
# The paper's input convention: one scalar so that the mean of (1/d)|x|^2 is 1.
Xs, factor = paper_scale(X)
print(f"scaled by {factor:.4f}")

# %% [markdown]
# ## 1. Pretrain the autoencoder
#
# We pretrain it ourselves (rather than letting `DEC.fit` do it) so that we keep the
# autoencoder's embedding for the comparison at the end: `DEC(autoencoder=sae)` copies it.
# The learning rates are 0.003 (layer-wise) and 0.001 (fine-tuning): the default loss is
# half the squared error *summed* over the 784 pixels, so gradients are large and the
# paper's 0.1 diverges (tutorial 03; fine-tuning at 0.003 diverged here too).

# %%
t0 = time.perf_counter()
sae = StackedAutoencoder((X.shape[1],) + SETTINGS["hidden"], p_drop=0.2, random_state=0)
sae.pretrain_layerwise(Xs, lr=0.003, **SETTINGS["layerwise"])
sae.finetune(Xs, lr=0.001, **SETTINGS["finetune"])
print(f"pretraining: {time.perf_counter() - t0:.0f} s, "
      f"reconstruction loss {sae.reconstruction_loss(Xs):.3f}")

# %% [markdown]
# ## 2. Baselines: k-means on pixels, and on the autoencoder's embedding

# %%
_, labels_px, _ = kmeans(Xs, 10, n_init=5, random_state=0)
z_ae = sae.encode(Xs)
_, labels_ae, _ = kmeans(z_ae, 10, n_init=10, random_state=0)
for label, labels in [("pixels", labels_px), ("AE z", labels_ae)]:
    print(f"k-means on {label:<8s} ACC {cluster_accuracy(y, labels):.3f}  NMI {nmi(y, labels):.3f}")

# %% [markdown]
# ## 3. DEC
#
# `fit(X, y)` uses `y` only to record ACC and NMI in `history_` after every target update;
# training never sees it.  `init_labels_` is DEC's own AE + k-means starting point.

# %%
t0 = time.perf_counter()
dec = DEC(10, autoencoder=sae, input_scaling=None, max_iter=SETTINGS["max_iter"],
          update_interval=SETTINGS["update_interval"], random_state=0)
dec.fit(Xs, y)
h = dec.history_
print(f"DEC: {dec.n_iter_} iterations in {time.perf_counter() - t0:.0f} s")
print(f"AE + k-means (DEC's init): ACC {cluster_accuracy(y, dec.init_labels_):.3f}")
print(f"DEC:                       ACC {cluster_accuracy(y, dec.labels_):.3f}  "
      f"NMI {nmi(y, dec.labels_):.3f}")
print("iteration  loss      changed   ACC")
for i in range(0, len(h["iteration"]), max(1, len(h["iteration"]) // 10)):
    print(f"{h['iteration'][i]:>9d}  {h['loss'][i]:.5f}  {h['delta_label'][i]:.4f}  "
          f"{h['acc'][i]:.3f}")
plot_training_curves(h, figure_path("07_training_curves.png"))
plot_confusion(y, dec.labels_, figure_path("07_confusion.png"))

# %% [markdown]
# ## 4. Figure 3: the most confident images of each cluster

# %%
q = dec.predict_proba(Xs)
plot_cluster_examples(X, q, image_shape, path=figure_path("07_fig3_cluster_examples.png"))

# %% [markdown]
# ## 5. Figure 4: which points drive the gradient?
#
# For the largest cluster j, rank its points by q_ij and plot |dL/dz_i| from Eq. (4),
# with an image every 10% of the ranking.  The paper reads its Fig. 4 as "the confident
# points contribute most", the premise of DEC's self-training.  Compare with what you
# get: in our full-mode run on MNIST-10k the gradient per point is smallest for the most
# confident points, grows as q_ij falls (these points are pulled hardest towards the
# cluster), and drops again only for the last few percent, the points that are nearly
# as close to another centroid.  The images show confidence tracking how typical the
# digit looks.

# %%
z = dec.transform(Xs)
p = target_distribution(q)
dz, _ = kl_gradients(z, dec.cluster_centers_, p, q, dec.alpha)
j = int(np.bincount(dec.labels_).argmax())
in_j = dec.labels_ == j  # the points assigned to cluster j, ranked by q_ij
plot_gradient_magnitude(np.linalg.norm(dz[in_j], axis=1), q[in_j, j], X[in_j], image_shape,
                        path=figure_path("07_fig4_gradient.png"))

# %% [markdown]
# ## 6. Figure 5: the embedding, before and after DEC
#
# The paper shows t-SNE at several DEC epochs; we project with PCA (an SVD, no extra
# dependency): pixels, the autoencoder's z, and DEC's z.

# %%
sub = np.random.default_rng(0).choice(len(X), min(3000, len(X)), replace=False)
plot_embedding_stages(
    [Xs[sub], z_ae[sub], z[sub]], y[sub],
    [f"pixels (k-means ACC {cluster_accuracy(y, labels_px):.2f})",
     f"autoencoder z (ACC {cluster_accuracy(y, dec.init_labels_):.2f})",
     f"DEC z (ACC {cluster_accuracy(y, dec.labels_):.2f})"],
    path=figure_path("07_fig5_embedding.png"))
print("figures written to", figure_path(""))

# %% [markdown]
# ## What to try next
#
# - `DEC(update_encoder=False)`: the paper's "DEC w/o backprop" (only the centroids move).
# - Change `update_interval` (the paper's lambda; it found lambda = 40 nearly optimal
#   across datasets) or `alpha` (tutorial 06 derives its gradients).
# - Run on all 70,000 MNIST images (`load_mnist(subset="all")`), on the GPU (tutorial 08).
# - Look at the confusion matrix: which digits does DEC merge?  (The paper: 4 and 9.)

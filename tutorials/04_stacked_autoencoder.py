# %% [markdown]
# # 04 · Greedy layer-wise pretraining of the stacked autoencoder, then fine-tuning
#
# **What this teaches.** Sec. 3.2 of the paper ("Parameter initialization"): DEC's
# encoder f_theta (d-500-500-2000-10) is initialised as a stacked autoencoder (SAE).
# Each depth is first trained alone as a denoising autoencoder on the clean output of
# the depths below it (greedy layer-wise); the encoders and decoders are then stacked
# into d-500-500-2000-10-2000-500-500-d and fine-tuned end to end on the reconstruction
# loss without dropout.  Only the encoder is kept for clustering.
#
# **Modes and run time** (2 CPU cores, one BLAS thread).  `DEC_NP_FAST=1`: 1,500 MNIST
# images, a 64-64-128-10 stack, ~15 s.  `DEC_NP_MEDIUM=1`: MNIST-10k, the paper's
# network, 8 + 20 epochs (not timed; about a third of full).  Full mode: MNIST-10k, the
# paper's network, 30 layer-wise + 60 fine-tuning epochs in "batch" loss units (this
# tutorial's own setting, not the estimator's "default" schedule): 8 to 9 minutes.
# (The estimator's default, schedule "adam", skips the layer-wise stage and trains the whole
# stack end to end with Adam; on the MNIST test set that gave better clusters than the
# layer-wise schedules we could afford on a CPU: README, "How the defaults were chosen".)
# Our full-mode run: reconstruction loss 125 after the layer-wise stage, 39 after
# fine-tuning; k-means ACC 0.549 on pixels, 0.601 on z after the layer-wise stage, 0.677
# after fine-tuning.

# %%
import time

import numpy as np
from _common import MODE, figure_path, load_data

from dec_np import StackedAutoencoder
from dec_np.datasets import paper_scale
from dec_np.kmeans import kmeans
from dec_np.metrics import cluster_accuracy
from dec_np.plotting import plot_loss_history, plot_reconstructions

SETTINGS = {
    "fast": dict(n=1500, hidden=(64, 64, 128, 10), layerwise=10, finetune=20, batch_size=64),
    "medium": dict(n=None, hidden=(500, 500, 2000, 10), layerwise=8, finetune=20, batch_size=256),
    "full": dict(n=None, hidden=(500, 500, 2000, 10), layerwise=30, finetune=60, batch_size=256),
}[MODE]
print(f"mode: {MODE}")
X, y, image_shape, name = load_data(SETTINGS["n"])
Xs, factor = paper_scale(X)  # DEC's input convention; reconstructions are shown / factor

# %% [markdown]
# ## 1. The denoising pairs, depth by depth
#
# `layer_pair(i)` is the network trained at depth i: dropout on its input (except raw
# pixels), encoder, ReLU (except on z), dropout on the code (except z), decoder, ReLU
# (except on the pixel output).  `pretrain_layerwise` trains pair 0 on X, encodes X with
# the trained encoder 0 (no dropout), trains pair 1 on that, and so on.

# %%
dims = (X.shape[1],) + SETTINGS["hidden"]
sae = StackedAutoencoder(dims, p_drop=0.2, random_state=0)
for i in range(sae.n_layers):
    print(f"depth {i} ({dims[i]} -> {dims[i + 1]} -> {dims[i]}):",
          [type(l).__name__ for l in sae.layer_pair(i).layers])

t0 = time.perf_counter()
sae.pretrain_layerwise(Xs, epochs=SETTINGS["layerwise"], batch_size=SETTINGS["batch_size"],
                       lr=0.003)
t_layerwise = time.perf_counter() - t0
loss_layerwise = sae.reconstruction_loss(Xs)
z_layerwise = sae.encode(Xs)
print(f"layer-wise: {t_layerwise:.0f} s; the stacked network's reconstruction loss is "
      f"{loss_layerwise:.2f} before any end-to-end training")

# %% [markdown]
# ## 2. Fine-tuning the whole stack
#
# The stacked network has never been trained as a whole: each decoder learnt to invert
# only its own encoder on clean inputs.  End-to-end fine-tuning (no dropout) lowers the
# reconstruction loss a lot.  The lr is 0.001, below the layer-wise 0.003: after
# layer-wise training the weights are larger and 0.003 can diverge (tutorial 03).

# %%
t0 = time.perf_counter()
sae.finetune(Xs, epochs=SETTINGS["finetune"], batch_size=SETTINGS["batch_size"], lr=0.001)
print(f"fine-tuning: {time.perf_counter() - t0:.0f} s; reconstruction loss "
      f"{loss_layerwise:.2f} -> {sae.reconstruction_loss(Xs):.2f}")
plot_loss_history(sae.history_, figure_path("04_loss_history.png"),
                  title="SAE pretraining: each depth, then the whole stack")
plot_reconstructions(X, sae.reconstruct(Xs[:10]) / factor, image_shape,
                     figure_path("04_reconstructions.png"),
                     title=f"{name}: inputs and SAE reconstructions ({'-'.join(map(str, dims))})")

# %% [markdown]
# ## 3. Is the embedding good for clustering?
#
# k-means on the pixels against k-means on z (10-D), after the layer-wise stage and after
# fine-tuning.  DEC starts from the last of these (tutorial 07).

# %%
for label, data in [("pixels", Xs), ("z after layer-wise", z_layerwise),
                    ("z after fine-tuning", sae.encode(Xs))]:
    _, labels, _ = kmeans(data, 10, n_init=5, random_state=0)
    print(f"k-means on {label:<20s}: ACC {cluster_accuracy(y, labels):.3f}")
np.set_printoptions(precision=2, suppress=True)
print("z of the first three images:\n", sae.encode(Xs[:3]))

# %% [markdown]
# ## What to try next
#
# - Skip the layer-wise stage (fine-tune from the random init) and compare the loss and
#   the k-means accuracy: is greedy pretraining still worth it with momentum and ReLUs?
# - `p_drop=0.0`: does the denoising matter?
# - `schedule="paper"` in `DEC` runs the paper's 50,000 + 100,000 iterations (hours on a
#   CPU; minutes on a GPU, tutorial 08).

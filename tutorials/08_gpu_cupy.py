# %% [markdown]
# # 08 · The same code on the GPU with CuPy
#
# **What this teaches.** The paper trained DEC on a GPU (Caffe); it reports processing the
# whole of REUTERS in about 30 minutes.  dec_np runs the *same* NumPy code on an NVIDIA GPU
# by handing it CuPy arrays: every numeric function starts with
# `xp = get_array_module(x)` and uses `xp` only (see `dec_np/backend.py`).  We check
# whether a GPU is usable, time one SAE training step and one DEC step on each backend
# we have, and fit DEC with `backend="cupy"`.  Without CuPy or a GPU everything runs on
# NumPy and the tutorial says so.
#
# Install CuPy for your CUDA version, e.g. `pip install cupy-cuda12x`.  Set
# `DEC_NP_BACKEND=cupy` to make CuPy the default backend of every estimator.
#
# Run it: `python tutorials/08_gpu_cupy.py` (fast mode ~10 s; full mode ~2 minutes on a
# CPU, much less with a GPU).

# %%
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from _common import FAST, figure_path, load_data  # noqa: E402

from dec_np import DEC, StackedAutoencoder, kl_gradients, soft_assignment  # noqa: E402
from dec_np import target_distribution  # noqa: E402
from dec_np.backend import asnumpy, get_array_module, get_backend, gpu_available  # noqa: E402
from dec_np.datasets import paper_scale  # noqa: E402
from dec_np.metrics import cluster_accuracy  # noqa: E402

# %% [markdown]
# ## 1. Which backends are there?

# %%
backends = ["numpy"]
if gpu_available():
    import cupy

    backends.append("cupy")
    props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
    print("GPU found:", props["name"].decode(), "- running on NumPy and CuPy")
else:
    try:
        get_backend("cupy")
    except RuntimeError as exc:
        print(f"No usable GPU, so everything below runs on NumPy only.\n  ({exc})")

# %% [markdown]
# ## 2. One code path: `get_array_module`
#
# A function written with `xp` works on both; results come back to the host with
# `asnumpy`.  The soft assignment of Eq. (1) on each backend gives the same numbers.

# %%
rng = np.random.default_rng(0)
z_host = rng.standard_normal((1000, 10)).astype(np.float32)
mu_host = rng.standard_normal((10, 10)).astype(np.float32)
q_ref = soft_assignment(z_host, mu_host)
for name in backends:
    xp = get_backend(name)
    z, mu = xp.asarray(z_host), xp.asarray(mu_host)
    q = soft_assignment(z, mu)
    print(f"{name}: soft_assignment returns {type(q).__module__.split('.')[0]} arrays; "
          f"get_array_module(q) is {get_array_module(q).__name__}; "
          f"max |q - q_numpy| = {np.abs(asnumpy(q) - q_ref).max():.1e}")

# %% [markdown]
# ## 3. Timing: an SAE step and a DEC step, per backend
#
# The step sizes are the paper's: batch 256 through 784-500-500-2000-10 (fast mode: a
# narrower network).  On the GPU, timings need `synchronize()`: kernels run
# asynchronously.

# %%
dims = (784, 128, 128, 512, 10) if FAST else (784, 500, 500, 2000, 10)
batch = rng.random((256, 784)).astype(np.float32)
repeats = 5 if FAST else 20


def sync(xp):
    if xp is not np:
        xp.cuda.Stream.null.synchronize()


timings = {}
for name in backends:
    xp = get_backend(name)
    sae = StackedAutoencoder(dims, backend=name, random_state=0)
    xb = xp.asarray(batch)
    sae.finetune(xb, iterations=2, batch_size=256, lr=0.001)  # warm-up (CuPy compiles kernels)
    sync(xp)
    t0 = time.perf_counter()
    sae.finetune(xb, iterations=repeats, batch_size=256, lr=0.001)
    sync(xp)
    t_sae = (time.perf_counter() - t0) / repeats
    enc = sae.encoder()
    mu = xp.asarray(rng.standard_normal((10, 10)).astype(np.float32))
    t0 = time.perf_counter()
    for _ in range(repeats):
        zb = enc.forward(xb, train=True)
        q = soft_assignment(zb, mu)
        dz, dmu = kl_gradients(zb, mu, target_distribution(q), q)
        enc.backward(dz / 256, need_dx=False)
    sync(xp)
    t_dec = (time.perf_counter() - t0) / repeats
    timings[name] = (t_sae, t_dec)
    print(f"{name}: SAE fine-tuning step {1000 * t_sae:.1f} ms, DEC step {1000 * t_dec:.1f} ms")

fig, ax = plt.subplots(figsize=(5.5, 3.4))
x = np.arange(2)
for b, (name, t) in enumerate(timings.items()):
    bars = ax.bar(x + 0.35 * b - 0.175 * (len(timings) - 1), [1000 * v for v in t], 0.35,
                  label={"numpy": "NumPy (CPU)", "cupy": "CuPy (GPU)"}[name])
    ax.bar_label(bars, fmt="%.1f ms", fontsize=8)
ax.set_xticks(x, ["SAE fine-tuning step", "DEC step (encoder + KL)"])
ax.set_ylabel("milliseconds per batch of 256")
ax.set_title(f"One training step, {'-'.join(map(str, dims))}", fontsize=10)
ax.legend(title="backend", fontsize=8)
ax.grid(alpha=0.3, axis="y")
fig.tight_layout()
fig.savefig(figure_path("08_backend_timing.png"), dpi=100)
plt.close(fig)

# %% [markdown]
# ## 4. DEC with `backend="cupy"`
#
# The estimator takes NumPy input and moves it to the device itself; fitted attributes
# such as `labels_` come back as NumPy arrays.  With a fixed `random_state`, weights,
# batches and k-means seeds are drawn on the host, so both backends start from the same
# point; float32 sums in another order make the runs drift apart slowly.

# %%
X, y, image_shape, name = load_data(1000 if FAST else 10000)
Xs = paper_scale(X)[0]
hidden = (64, 64, 128, 10) if FAST else (500, 500, 2000, 10)
schedule = {"model": {"p_drop": 0.2, "init_std": 0.01},
            "layerwise": {"epochs": 10 if FAST else 10, "batch_size": 64 if FAST else 256,
                          "lr": 0.003},
            "finetune": {"epochs": 20 if FAST else 20, "batch_size": 64 if FAST else 256,
                         "lr": 0.001}}
for bname in backends:
    t0 = time.perf_counter()
    dec = DEC(10, hidden_dims=hidden, schedule=schedule, input_scaling=None, backend=bname,
              max_iter=150 if FAST else 2000, update_interval=30 if FAST else 140,
              random_state=0).fit(Xs, y)
    print(f"{bname}: DEC fitted in {time.perf_counter() - t0:.1f} s, "
          f"ACC {cluster_accuracy(y, dec.labels_):.3f} (AE + k-means "
          f"{cluster_accuracy(y, dec.init_labels_):.3f}); "
          f"labels_ is a {type(dec.labels_).__module__} array")

# %% [markdown]
# ## What to try next
#
# - `DEC_NP_BACKEND=cupy python -m pytest -q` runs the numeric tests on the GPU.
# - On a GPU, run tutorial 07 in full mode with `backend="cupy"`, or DEC on all 70,000
#   MNIST images with `schedule="paper"`.
# - Profile a DEC step with `cupyx.profiler.benchmark`: which kernel dominates?

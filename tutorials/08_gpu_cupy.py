# %% [markdown]
# # 08 · The same code on the GPU with CuPy
#
# **What you will be able to do.** Write a numeric function that runs unchanged on NumPy
# (CPU) and CuPy (NVIDIA GPU) arrays, prove that it does on a machine *without* a GPU, count
# the floating-point work of a training step, and fit DEC with `backend="cupy"`.
#
# The paper trained DEC on a GPU (Caffe) and reports processing the whole of REUTERS in
# about 30 minutes.  dec_np runs the *same* code on both devices: every numeric function
# starts with `xp = get_array_module(x)` and then calls `xp.exp`, `xp.zeros`, ... and array
# methods only, never `np.` on the data (`dec_np/backend.py`).  CuPy mirrors NumPy's API, so
# `xp` is either module and the code does not care which.
#
# **Data.** Random Gaussian arrays in sections 2-4; in section 5 MNIST's 10,000 test images
# (a random 1,000 in fast mode), or the embedded 8x8 digits when MNIST is not there (the
# first lines of output say which, and how to get MNIST).
#
# **Without a GPU** (as in the test suite) every section still runs, on NumPy only, and
# says what it would show on a GPU.  To use one, install CuPy for your CUDA version, e.g.
# `pip install cupy-cuda12x`; `DEC_NP_BACKEND=cupy` makes CuPy the default backend of every
# estimator.
#
# **Exercise.** One function, `softmax_rows`, checked three ways: on NumPy against the
# package, on a *pretend device* that refuses every NumPy call on its data (so a stray
# `np.` fails here, on a CPU), and on CuPy when a GPU is present.  Reference solution:
# `tutorials/solutions/08_gpu_cupy.py` (run with `DEC_NP_SOLUTIONS=1` to use it).
#
# Run it: `python tutorials/08_gpu_cupy.py` (fast mode, `DEC_NP_FAST=1`, takes seconds; full
# mode spends nearly all its time in the DEC fit of section 5).  The run prints its own time
# at the end.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
from _common import FAST, check, claim, exercise, load_data, show, start, summary
from _device import on_pretend_device

from dec_np import DEC, StackedAutoencoder, kl_gradients, soft_assignment, target_distribution
from dec_np.backend import get_array_module, get_backend, gpu_available
from dec_np.dec_math import squared_distances
from dec_np.datasets import paper_scale
from dec_np.metrics import cluster_accuracy

start("08_gpu_cupy")
t_start = time.perf_counter()
X, y, image_shape, data_name = load_data(1000 if FAST else 10000)
print("(the images are used in section 5; sections 2-4 use random arrays)")

# %% [markdown]
# ## 1. Which backends are there?

# %%
backends = ["numpy"]
if gpu_available():
    import cupy

    backends.append("cupy")
    props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
    print("GPU found:", props["name"].decode(), "- everything below runs on NumPy and CuPy")
else:
    try:
        get_backend("cupy")
    except RuntimeError as exc:
        print(f"No usable GPU, so everything below runs on NumPy only.\n  ({exc})")

# %% [markdown]
# ## 2. A softmax that does not care where its data lives
#
# The soft assignment of Eq. (1) is a softmax.  Write the log-kernel
#
#     l[i, j] = -(alpha + 1)/2 * log(1 + |z_i - mu_j|^2 / alpha)          (N, k)
#
# so that exp(l[i, j]) = (1 + |z_i - mu_j|^2 / alpha)^(-(alpha+1)/2), the numerator of
# Eq. (1).  Then
#
#     q[i, j] = exp(l[i, j]) / sum_j' exp(l[i, j'])                         (N, k)
#
# **The shift.** For any number c[i] per row, multiplying numerator and denominator by
# exp(-c[i]) changes nothing:
#
#     exp(l[i, j] - c[i]) / sum_j' exp(l[i, j'] - c[i])
#         = exp(-c[i]) exp(l[i, j]) / (exp(-c[i]) sum_j' exp(l[i, j'])) = q[i, j].
#
# With c[i] = m[i] = max_j l[i, j] every exponent is <= 0, so no exp overflows, and the
# largest term of the denominator is exp(0) = 1, so it is at least 1: never 0/0.  Without
# the shift, float32 (largest value about 3.4e38) overflows at exp(89).  `dec_np`'s
# `soft_assignment` computes Eq. (1) exactly this way.

# %%
row = np.array([[100.0, 101.0, 102.0]], dtype=np.float32)
with np.errstate(over="ignore", invalid="ignore"):
    naive = np.exp(row) / np.exp(row).sum(axis=1, keepdims=True)
shifted = np.exp(row - row.max(axis=1, keepdims=True))
shifted /= shifted.sum(axis=1, keepdims=True)
print("logits", row[0], "-> naive softmax", naive[0], ", shifted", shifted[0])
claim("In float32 the unshifted softmax of logits near 100 is NaN (exp overflows); the "
      "shifted one is finite and sums to 1.",
      bool(np.isnan(naive).all() and np.isfinite(shifted).all()
           and abs(float(shifted.sum()) - 1) < 1e-6), shifted_sum=float(shifted.sum()))

# %% [markdown]
# **Exercise 1.** Write `softmax_rows` with the shift, for an array on either device: get
# the module with `xp = get_array_module(logits)` and use only `xp.<function>` and array
# methods (`logits.max(axis=1, keepdims=True)`, `e.sum(...)`), never `np.` on the data.
# The first check feeds it the log-kernel of random points in float64 and compares with the
# package's `soft_assignment`; the two compute the same float64 operations, so the relative
# error **should be below 1e-12** (the check allows 1e-9 per element).

# %%
@exercise
def softmax_rows(logits):
    """Row-wise softmax with the max shift, on NumPy or CuPy arrays alike.

    q[i, j] = exp(l[i, j] - m[i]) / sum_j' exp(l[i, j'] - m[i]),   m[i] = max_j l[i, j]

    Parameters
    ----------
    logits : ndarray of shape (N, k), NumPy or CuPy, float

    Returns
    -------
    q : ndarray of shape (N, k), the same array type and dtype; each row sums to 1.
    """
    # YOUR CODE HERE (three lines: xp, the shifted exponentials, the normalisation)
    raise NotImplementedError("softmax_rows: the shifted exp of each row, divided by its sum")
    # END OF YOUR CODE


rng = np.random.default_rng(0)
z, mu, alpha = rng.standard_normal((200, 10)), rng.standard_normal((10, 10)), 1.0
logk = -(alpha + 1) / 2 * np.log1p(squared_distances(z, mu) / alpha)
q_ref = soft_assignment(z, mu, alpha)
check("softmax_rows on NumPy", lambda: softmax_rows(logk), q_ref, rtol=1e-9,
      against="dec_np.soft_assignment (float64)", names="q")

# %% [markdown]
# ## 3. Proving it on a CPU: a pretend device
#
# What goes wrong when NumPy meets a CuPy array?  CuPy refuses to turn device memory into a
# host array behind your back (`np.asarray(x_gpu)` raises TypeError: use `cupy.asnumpy`), and
# refuses operations that mix a host `numpy.ndarray` into device arrays.  `np.zeros(shape)`
# allocates on the host, so a result built into it is refused or, worse, ends up on the CPU.
# NumPy's ufuncs and many functions (`np.exp`, `np.sum`) are *forwarded* to CuPy through
# NumPy's override protocols (NEP 13 and NEP 18, as CuPy's interoperability guide says), so
# those happen to work; dec_np's rule forbids them anyway, since one rule ("`xp`, never `np.`,
# on data") is easier to keep than a list of exceptions.
#
# How does `get_array_module` decide?  It looks CuPy up in `sys.modules` (it never imports
# it) and returns it if an argument is an instance of `cupy.ndarray`.  So for the length of
# a check we put a *pretend* module there (`tutorials/_device.py`): its `ndarray` is
# `DeviceArray`, a box around a NumPy array that supports arithmetic and array methods but
# refuses every NumPy function and every host array mixed into it; its functions (`xp.exp`,
# `xp.zeros`, ...) work on DeviceArrays and return DeviceArrays.  The package's own
# `get_array_module` then hands it out exactly as it would hand out CuPy.
# `on_pretend_device(fn, *arrays)` runs fn on device copies of the arrays and passes only
# if its result is still a DeviceArray.  It is stricter than CuPy on purpose (`np.exp`
# fails here).
#
# The check below expects the same bound as before, **below 1e-12**: the same float64
# operations run on the same numbers, only boxed.

# %%
check("softmax_rows on a pretend device (no NumPy on device data)",
      lambda: on_pretend_device(softmax_rows, logk), q_ref, rtol=1e-9,
      against="dec_np.soft_assignment on NumPy", names="q")

# %% [markdown]
# Does the pretend device really catch a stray `np.`?  Three softmaxes that are right on
# NumPy, each with one host call on the data: `np.exp` (CuPy would forward it; we refuse),
# a result written into `np.zeros` (host memory), and the row maximum taken through
# `np.asarray`.

# %%
def leaky_exp(logits):
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def leaky_zeros(logits):
    xp = get_array_module(logits)
    q = np.zeros(logits.shape, dtype=logits.dtype)
    e = xp.exp(logits - logits.max(axis=1, keepdims=True))
    q[...] = e / e.sum(axis=1, keepdims=True)
    return q


def leaky_asarray(logits):
    xp = get_array_module(logits)
    e = xp.exp(logits - np.asarray(logits).max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


right_on_numpy, refused = [], []
for leaky in (leaky_exp, leaky_zeros, leaky_asarray):
    right_on_numpy.append(np.allclose(leaky(logk), q_ref, rtol=1e-9, atol=0))
    try:
        on_pretend_device(leaky, logk)
    except TypeError as exc:
        refused.append(leaky.__name__)
        print(f"{leaky.__name__}: refused ({exc})")
claim("All three leaky softmaxes match the package on NumPy, and the pretend device "
      "refuses all three.", all(right_on_numpy) and len(refused) == 3,
      n_refused=len(refused))

# %% [markdown]
# The package's DEC math passes the same test: Eq. (1), the target of Eq. (3) and the
# gradients of the KL loss (tutorials 05 and 06) on the pretend device give NumPy's numbers.

# %%
p_ref = target_distribution(q_ref)
on_host = (q_ref, p_ref, *kl_gradients(z, mu, p_ref, q_ref))
on_dev = (on_pretend_device(soft_assignment, z, mu),
          on_pretend_device(target_distribution, q_ref),
          *on_pretend_device(kl_gradients, z, mu, p_ref, q_ref))
gap = max(float(np.abs(a - b).max()) for a, b in zip(on_dev, on_host))
claim("soft_assignment, target_distribution and kl_gradients run on the pretend device and "
      "give NumPy's numbers to within 1e-12.", gap <= 1e-12, max_abs_difference=gap)

# %% [markdown]
# On a GPU the exercise is checked on CuPy itself as well (this check exists only where
# CuPy sees a GPU).

# %%
def on_cupy(fn, *host_arrays):
    """fn on CuPy copies of ``host_arrays``; its result on the host (TypeError if not CuPy)."""
    out = fn(*[cupy.asarray(a) for a in host_arrays])
    if not isinstance(out, cupy.ndarray):
        raise TypeError(f"returned a {type(out).__module__}.{type(out).__name__} on CuPy input")
    return cupy.asnumpy(out)


if "cupy" in backends:
    check("softmax_rows on CuPy (GPU)", lambda: on_cupy(softmax_rows, logk), q_ref,
          rtol=1e-9, against="dec_np.soft_assignment on NumPy", names="q")
else:
    print("(no GPU: the CuPy check of softmax_rows is skipped)")

# %% [markdown]
# ## 4. Where a training step spends its work
#
# Nearly all of it is in matrix products.  A dense layer n_in -> n_out on a batch of N rows
# computes `out[n, k] = sum_i x[n, i] W[i, k] + b[k]`: N * n_out sums of n_in products,
# i.e. 2 N n_in n_out floating-point operations (a multiply and an add each).  Its backward
# pass (tutorial 01) does two more products of the same size, `dW = x.T @ dout` and
# `dx = dout @ W.T`, except that the first layer skips dx (the pixels need no gradient:
# `backward(..., need_dx=False)`).  With P = the number of weights of all layers and P_1 those
# of the first,
#
#     matrix-product flops per step = 6 N P - 2 N P_1.
#
# A fine-tuning step of the autoencoder runs encoder and decoder (P counts both); a DEC step
# runs the encoder only, plus q and the gradients, which cost O(N k d), tiny beside it.  In
# DEC the target distribution comes from all points and stays fixed between updates
# (tutorial 07); here it is built once, before the clock starts, for the timed batch: a
# stand-in of the right shape, since the step's cost does not depend on its values.  The
# sizes are the paper's, batch 256 through 784-500-500-2000-10 (fast mode: a narrower
# 784-128-128-512-10), on a random batch.  On the GPU, kernels run asynchronously:
# the clock is read only after `synchronize()`.

# %%
dims = (784, 128, 128, 512, 10) if FAST else (784, 500, 500, 2000, 10)
N = 256
batch = rng.random((N, 784)).astype(np.float32)
repeats = 5 if FAST else 20


def sync(xp):
    if xp is not np:
        xp.cuda.Stream.null.synchronize()


def step_flops(layers):
    weights = [layer.params["W"].size for layer in layers]
    return 6 * N * sum(weights) - 2 * N * weights[0]


timings = {}
for bname in backends:
    xp = get_backend(bname)
    sae = StackedAutoencoder(dims, backend=bname, random_state=0)
    xb = xp.asarray(batch)
    sae.finetune(xb, iterations=2, batch_size=N, lr=0.001)  # warm-up (CuPy compiles kernels)
    sync(xp)
    t0 = time.perf_counter()
    sae.finetune(xb, iterations=repeats, batch_size=N, lr=0.001)
    sync(xp)
    t_sae = (time.perf_counter() - t0) / repeats
    enc = sae.encoder()
    mu_dev = xp.asarray(rng.standard_normal((10, 10)).astype(np.float32))
    pb = target_distribution(soft_assignment(enc.forward(xb), mu_dev))  # fixed, as in DEC
    t0 = time.perf_counter()
    for _ in range(repeats):
        zb = enc.forward(xb, train=True)
        qb = soft_assignment(zb, mu_dev)
        dz, dmu = kl_gradients(zb, mu_dev, pb, qb)
        enc.backward(dz / N, need_dx=False)
    sync(xp)
    t_dec = (time.perf_counter() - t0) / repeats
    timings[bname] = (t_sae, t_dec)
    f_sae, f_dec = step_flops(sae.encoders + sae.decoders), step_flops(sae.encoders)
    print(f"{bname}: SAE fine-tuning step {1000 * t_sae:.1f} ms ({f_sae / 1e6:.0f} Mflop, "
          f"{f_sae / t_sae / 1e9:.1f} Gflop/s); DEC step {1000 * t_dec:.1f} ms "
          f"({f_dec / 1e6:.0f} Mflop, {f_dec / t_dec / 1e9:.1f} Gflop/s)")

fig, ax = plt.subplots(figsize=(5.5, 3.4))
x = np.arange(2)
for b, (bname, t) in enumerate(timings.items()):
    bars = ax.bar(x + 0.35 * b - 0.175 * (len(timings) - 1), [1000 * v for v in t], 0.35,
                  label={"numpy": "NumPy (CPU)", "cupy": "CuPy (GPU)"}[bname])
    ax.bar_label(bars, fmt="%.1f ms", fontsize=8)
ax.set_xticks(x, ["SAE fine-tuning step", "DEC step (encoder + KL)"])
ax.set_ylabel(f"milliseconds per batch of {N}")
ax.set_title(f"One training step, {'-'.join(map(str, dims))}"
             + ("" if len(timings) > 1 else " (no GPU here: NumPy only)"), fontsize=10)
ax.legend(title="backend", fontsize=8)
ax.grid(alpha=0.3, axis="y")
fig.tight_layout()
show(fig, "08_backend_timing.png")

# %% [markdown]
# On a GPU the figure gets a CuPy bar beside each NumPy bar.  This text quotes no GPU timing
# because none was measured for it; compare the Gflop/s printed above with your GPU's
# float32 peak (its data sheet) to see how much of the device a step of this size uses.
#
# **Inline question 1.** Why would the DEC step be timed wrongly on a GPU without the
# `sync(xp)` before reading the clock?  And why is the first call of each step (the warm-up)
# left out of the timing?
#
# *Your answer:*
#
# ## 5. DEC with `backend="cupy"`
#
# The estimator takes NumPy input and moves it to the device itself; fitted attributes such
# as `labels_` come back as NumPy arrays.  With a fixed `random_state`, weights, batches and
# k-means seeds are drawn on the host, so both backends start from the same point; float32
# sums in another order make the runs drift apart slowly.  Without a GPU this fits on NumPy
# only.

# %%
Xs = paper_scale(X)[0]
hidden = (64, 64, 128, 10) if FAST else (500, 500, 2000, 10)
schedule = {"model": {"p_drop": 0.2, "init_std": 0.01},
            "layerwise": {"epochs": 10, "batch_size": 64 if FAST else 256, "lr": 0.003},
            "finetune": {"epochs": 20, "batch_size": 64 if FAST else 256, "lr": 0.001}}
host_labels = []
for bname in backends:
    t0 = time.perf_counter()
    dec = DEC(10, hidden_dims=hidden, schedule=schedule, input_scaling=None, backend=bname,
              max_iter=150 if FAST else 2000, update_interval=30 if FAST else 140,
              random_state=0).fit(Xs, y)
    host_labels.append(isinstance(dec.labels_, np.ndarray))
    print(f"{bname}: DEC fitted in {time.perf_counter() - t0:.1f} s on {data_name}, "
          f"ACC {cluster_accuracy(y, dec.labels_):.3f} (AE + k-means "
          f"{cluster_accuracy(y, dec.init_labels_):.3f}); "
          f"labels_ is a {type(dec.labels_).__module__} array")
claim("On every backend, labels_ comes back as a NumPy array.", all(host_labels),
      backends=len(host_labels))

# %% [markdown]
# **Inline question 2.** The estimator draws weights, batch order and k-means seeds on the
# host and copies them to the device.  What would be lost if it drew them with CuPy's random
# generator instead?
#
# *Your answer:*
#
# ## Exercises
#
# 1. (Derivation) Show that softmax_rows(l + c 1^T) = softmax_rows(l) for any column vector
#    c of length N, and that for one row the result does change if a different constant is
#    added to each *column*.  Why is the shift the row maximum and not the maximum over the
#    whole array (hint: a row whose logits are all far below the global maximum)?
# 2. (Derivation) Count the flops of one DEC step exactly, including soft_assignment,
#    target_distribution and kl_gradients for N points, k clusters and d = 10.  At which N
#    and k would they reach 1% of the encoder's 6 N P - 2 N P_1?
# 3. (Code) Write `target_distribution` (Eq. 3) with `xp` only, and check it with
#    `on_pretend_device` against `dec_np.target_distribution`.  Then put one `np.maximum`
#    into it and watch the pretend device refuse it.
# 4. (Code) Remove `need_dx=False` from the DEC step of section 4 and measure how much
#    longer it takes; compare with the 2 N P_1 flops the formula predicts.
# 5. (GPU) Time the SAE step for batch sizes 32 to 4096 on both backends.  Where does CuPy
#    overtake NumPy, and why does the GPU need large batches to pay off?
# 6. (GPU) `DEC_NP_BACKEND=cupy python -m pytest -q` runs the numeric tests on the GPU; run
#    tutorial 07 in full mode with `backend="cupy"`.

# %%
summary()
print(f"run time: {time.perf_counter() - t_start:.1f} s (mode {'fast' if FAST else 'full'})")

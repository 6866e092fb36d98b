# %% [markdown]
# # 01 · A dense layer and a ReLU, forward and backward by hand
#
# **What you will be able to do.** Every layer of DEC's network (Sec. 3.2 of the paper:
# the encoder f_theta is a stack of fully connected layers with ReLUs) is an affine map
# `out = x @ W + b`, mostly followed by a ReLU.  In this tutorial you derive the backward
# pass of both with the chain rule, index by index, write it yourself (two exercises), and
# check it against centred finite differences in float64 (`dec_np.gradcheck`), the way
# every gradient in this package is tested.  No equation of the paper is new here; this is
# the machinery behind the paper's "standard backpropagation".
#
# **Data.** Small random Gaussian arrays in float64; no images yet (tutorial 02 brings
# them in).
#
# **How the exercises work.** A function marked `@exercise` raises `NotImplementedError`
# until you fill in the lines between `YOUR CODE HERE` and `END OF YOUR CODE`; the
# `check(...)` after it then prints `[PASS]` or `[FAIL]` with the first element that
# differs.  The rest of the lesson uses the package's own layers, so it runs to the end
# whatever state your code is in.  Reference solutions: `tutorials/solutions/01_dense_layer.py`
# (run with `DEC_NP_SOLUTIONS=1` to use them).
#
# Run it: `python tutorials/01_dense_layer.py`.  It does the same few seconds of work in
# every mode.

# %%
import matplotlib.pyplot as plt
import numpy as np
from _common import check, claim, exercise, show, start, summary

from dec_np.gradcheck import check_layer, numerical_gradient, rel_error, report
from dec_np.layers import Dense, ReLU, Sequential

start("01_dense_layer")
print("data: random Gaussian arrays in float64 (no images in this tutorial)")
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. Forward
#
# For a batch `x` of shape (N, n_in), weights `W` of shape (n_in, n_out) and a bias `b`
# of shape (n_out,), row n of the output is
#
#     out[n, k] = sum_i x[n, i] W[i, k] + b[k]        (N, n_out)
#
# The layer keeps `x` in `self.cache`: the backward pass needs it.

# %%
layer = Dense(3, 2, init_std=1.0, dtype=np.float64, random_state=0)
x = rng.standard_normal((4, 3))
out = layer.forward(x)
print("out =\n", out)
assert np.allclose(out, x @ layer.params["W"] + layer.params["b"])

# %% [markdown]
# ## 2. Backward, derived index by index
#
# Let L be any scalar computed from `out`, and write `dout[n, k] = dL/dout[n, k]` (the
# array the layer above hands down, shape (N, n_out)).  The chain rule sums over every
# output element that the variable touches:
#
#     dL/dW[i, k] = sum_n sum_k' dout[n, k'] * d out[n, k'] / d W[i, k]
#
# and `d out[n, k'] / d W[i, k] = x[n, i]` if k' = k, else 0.  So one sum is left:
#
#     dW[i, k] = sum_n x[n, i] dout[n, k]         i.e.  dW = x.T @ dout      (n_in, n_out)
#
# The bias enters `out[n, k]` with slope 1 for every row n:
#
#     db[k] = sum_n dout[n, k]                    i.e.  db = dout.sum(axis=0)   (n_out,)
#
# An input `x[n, i]` reaches every output `out[n, k]` of its own row through `W[i, k]`:
#
#     dx[n, i] = sum_k dout[n, k] W[i, k]         i.e.  dx = dout @ W.T      (N, n_in)
#
# Each gradient has the shape of the thing it is the gradient of: a cheap first check.
# `dW` and `db` are *summed* over the batch, not averaged: if the loss is an average over
# rows, the 1/N is already inside `dout` (tutorial 02's loss puts it there).
#
# **Exercise 1.** Write `dense_backward`.

# %%
@exercise
def dense_backward(dout, x, W):
    """Backward pass of ``out = x @ W + b``.

    Parameters
    ----------
    dout : ndarray of shape (N, n_out), dL/dout
    x : ndarray of shape (N, n_in), the layer's input (its cache)
    W : ndarray of shape (n_in, n_out)

    Returns
    -------
    dx : (N, n_in), dx[n, i] = sum_k dout[n, k] W[i, k]
    dW : (n_in, n_out), dW[i, k] = sum_n x[n, i] dout[n, k]
    db : (n_out,), db[k] = sum_n dout[n, k]
    """
    # YOUR CODE HERE (three lines)
    raise NotImplementedError("dense_backward: compute dx, dW, db")
    # END OF YOUR CODE


# %% [markdown]
# ## 3. The check: centred finite differences
#
# Take the scalar `L = sum(out * dout)` for a fixed random `dout`: its gradient with
# respect to `out` is exactly `dout`, so the backward pass fed with `dout` must return
# dL/dx and dL/dW, dL/db.  The centred difference
#
#     dL/dw[j] ~ (L(w + h e_j) - L(w - h e_j)) / 2h
#
# has a truncation error of order h^2 * (third derivative of L), which is zero here (L is
# linear in every parameter), so only round-off is left: about 1e-16 * |L| / h.  With
# h = 1e-5 in float64 your result should agree with it to a relative error **below 1e-8**
# (the check allows 1e-6 per element).  In float32 the same check would be hopeless
# (section 6), which is why gradient checks always run in float64.

# %%
W, b = layer.params["W"], layer.params["b"]
dout = rng.standard_normal(out.shape)
L = lambda _: (layer.forward(x) * dout).sum()  # noqa: E731  reads the current x, W, b
num_dx, num_dW, num_db = (numerical_gradient(L, a) for a in (x, W, b))
check("dense_backward: dx, dW, db", lambda: dense_backward(dout, x, W),
      (num_dx, num_dW, num_db), against="centred finite differences (h = 1e-5)",
      names=("dx", "dW", "db"))

# the package's own Dense.backward against the same numbers
dx = layer.backward(dout)
errors = {"dx": rel_error(dx, num_dx), "dW": rel_error(layer.grads["W"], num_dW),
          "db": rel_error(layer.grads["b"], num_db)}
print(report(errors, title="dec_np.layers.Dense.backward vs finite differences"))
claim("The package's Dense.backward agrees with finite differences to below 1e-8.",
      max(errors.values()) < 1e-8, max_rel_error=max(errors.values()))

# %% [markdown]
# ## 4. ReLU, derived
#
# `out[n, j] = max(x[n, j], 0)` acts element by element, so `d out[n', j'] / d x[n, j]` is
# zero unless (n', j') = (n, j), and there it is 1 where `x[n, j] > 0` and 0 where
# `x[n, j] < 0`.  At exactly 0 the function has a kink; any value in [0, 1] is a valid
# subgradient and, like Caffe and PyTorch, we take 0.  The sum of the chain rule has a
# single term:
#
#     dx[n, j] = dout[n, j] * 1[x[n, j] > 0]
#
# ReLU has no parameters.  The package's `ReLU` caches its *output* rather than its input;
# `out > 0` and `x > 0` are the same mask.
#
# **Exercise 2.** Write `relu_backward`.  The check uses inputs at least 0.1 away from the
# kink: with h = 1e-5 a finite difference never straddles it, L is again linear in x
# around every point, and the error should be **below 1e-8**.

# %%
@exercise
def relu_backward(dout, x):
    """Backward pass of ``out = max(x, 0)``.

    Parameters
    ----------
    dout : ndarray of shape (N, d), dL/dout
    x : ndarray of shape (N, d), the ReLU's input

    Returns
    -------
    dx : (N, d), dx[n, j] = dout[n, j] if x[n, j] > 0 else 0
    """
    # YOUR CODE HERE (one line)
    raise NotImplementedError("relu_backward: mask dout where x <= 0")
    # END OF YOUR CODE


xr = rng.standard_normal((5, 6))
xr += 0.1 * np.sign(xr)  # keep every input at least 0.1 from the kink at 0
dout_r = rng.standard_normal(xr.shape)
relu = ReLU()
num_dxr = numerical_gradient(lambda _: (relu.forward(xr) * dout_r).sum(), xr)
check("relu_backward: dx", lambda: {"dx": relu_backward(dout_r, xr)}, {"dx": num_dxr},
      against="centred finite differences (h = 1e-5)")

# %% [markdown]
# **Inline question 1.** Put one input exactly at 0, say `xr[0, 0] = 0`, and run the
# finite-difference check again.  Which value does the centred difference give for
# `dx[0, 0]`, and why is it not what `relu_backward` returns?  (Hint: compute
# `(max(h, 0) - max(-h, 0)) / 2h` by hand.)  Why is this harmless in training?
#
# ## 5. A small network, and what a bug looks like
#
# `Sequential` chains layers; its backward calls theirs in reverse order, each handing
# its `dx` to the layer below as that layer's `dout`.  So the check of a whole network is
# the same check.  Then we plant a bug (forget to transpose W in dx) and watch the check
# fail.

# %%
net = Sequential(Dense(5, 4, 1.0, np.float64, random_state=1), ReLU(),
                 Dense(4, 3, 1.0, np.float64, random_state=2))
xs = rng.standard_normal((6, 5))
net_errors = check_layer(net, xs)
print(report(net_errors, title="Dense-ReLU-Dense, checked as one layer"))


class BuggyDense(Dense):
    def backward(self, dout, need_dx=True):
        super().backward(dout)
        return dout @ self.params["W"]  # forgot the transpose (works only when W is square)


buggy = BuggyDense(3, 3, 1.0, np.float64, random_state=0)
bug_errors = check_layer(buggy, rng.standard_normal((4, 3)))
print(report(bug_errors, title="a planted bug"))
claim("Every tensor of the small network agrees with finite differences to below 1e-8.",
      max(net_errors.values()) < 1e-8, max_rel_error=max(net_errors.values()))
claim("The planted bug gives a relative error of dx above 0.1, while dW and db stay below 1e-8.",
      bug_errors["x"] > 0.1 and max(bug_errors["W"], bug_errors["b"]) < 1e-8,
      dx_error=bug_errors["x"], dW_error=bug_errors["W"])

# %% [markdown]
# A relative error near 1 means the two gradients have nothing to do with each other;
# 1e-2 to 1e-4 is what a kink or float32 gives; 1e-8 and below is a correct gradient.
# The check names the tensor, so the bug is found in `dx`, not in `dW` or `db`.
#
# ## 6. The step h: truncation against round-off
#
# Two errors compete in a centred difference.  Truncation: by Taylor's theorem
# `(L(w+h) - L(w-h)) / 2h = L'(w) + h^2 L'''(w) / 6 + ...`, so it shrinks like h^2.
# Round-off: L is computed to about eps * |L| (eps = 1.1e-16 in float64), and dividing by 2h
# amplifies that, so it grows like eps / h.  Their sum is smallest where h^3 ~ eps, that is
# near h = 1e-5 (the run below prints where its minimum falls); `numerical_gradient`'s
# default is 1e-5.  For the linear loss of section 3 the
# truncation term is zero, so only the round-off side of the curve shows; a cubic loss
# `L = sum(out^3 * dout)` (whose gradient is `dW = x.T @ (3 out^2 * dout)`) shows both.

# %%
hs = np.logspace(-12, -1, 23)
layer.forward(x)
layer.backward(dout)
errs = np.array([rel_error(layer.grads["W"], numerical_gradient(L, W, h)) for h in hs])
o = layer.forward(x)
dW_cubic = x.T @ (3 * o ** 2 * dout)
L3 = lambda _: (layer.forward(x) ** 3 * dout).sum()  # noqa: E731
errs_cubic = np.array([rel_error(dW_cubic, numerical_gradient(L3, W, h)) for h in hs])
best_h = float(hs[np.argmin(errs_cubic)])
print(f"cubic loss: best h {best_h:.1e} (error {errs_cubic.min():.1e}); "
      f"error {errs_cubic[-1]:.1e} at h = 1e-1 and {errs_cubic[0]:.1e} at h = 1e-12")
claim("For the cubic loss the error is smallest at an h between 1e-7 and 1e-3.",
      1e-7 <= best_h <= 1e-3, best_h=best_h)
claim("For the linear loss the error at h = 1e-12 is over 100 times that at h = 1e-5.",
      errs[0] > 100 * errs[np.argmin(np.abs(hs - 1e-5))],
      err_1e12=float(errs[0]), err_1e5=float(errs[np.argmin(np.abs(hs - 1e-5))]))

fig, ax = plt.subplots(figsize=(5.5, 3.6))
ax.loglog(hs, np.maximum(errs, 1e-17), "o-", ms=3, label="L = sum(out * dout) (linear)")
ax.loglog(hs, np.maximum(errs_cubic, 1e-17), "s-", ms=3, label="L = sum(out^3 * dout)")
ax.axvline(1e-5, color="grey", ls=":", label="h = 1e-5 (the default)")
ax.set_xlabel("finite-difference step h")
ax.set_ylabel("relative error of dW")
ax.set_title("Centred differences in float64: truncation vs round-off", fontsize=10)
ax.grid(alpha=0.3, which="both")
ax.legend(fontsize=8)
fig.tight_layout()
show(fig, "01_gradcheck_step.png")

# %% [markdown]
# ## 7. Why float64: the same check in float32
#
# In float32 eps is 6e-8, 5e8 times float64's, and the round-off term eps / h grows with
# it.  The run below measures the cubic loss's check at h = 1e-5 in both precisions.  At an
# error of 1e-3 a check cannot tell a correct gradient from one that is wrong by a tenth of
# a percent.

# %%
layer32 = Dense(3, 2, init_std=1.0, dtype=np.float32, random_state=0)
x32, dout32 = x.astype(np.float32), dout.astype(np.float32)
layer32.forward(x32)
layer32.backward(dout32)
num32 = numerical_gradient(lambda _: (layer32.forward(x32) ** 3 * dout32).sum(),
                           layer32.params["W"])
o32 = layer32.forward(x32)
err32 = rel_error(x32.T @ (3 * o32 ** 2 * dout32), num32)
err64 = float(errs_cubic[np.argmin(np.abs(hs - 1e-5))])
print(f"cubic loss, h = 1e-5: float64 error {err64:.1e}, float32 error {err32:.1e} "
      f"({err32 / err64:.0e} times larger)")
claim("In float32 the same check (cubic loss, h = 1e-5) is over 1000 times worse than in float64.",
      err32 > 1000 * err64, float32=err32, float64=err64)

summary()

# %% [markdown]
# ## Exercises
#
# 1. *(derivation)* Append a column of ones to `x` and the row `b` to `W`, so that
#    `out = [x, 1] @ [[W], [b]]`.  Show that the formula for `dW` then contains the formula
#    for `db` as its last row.
# 2. *(derivation)* The loss `L = 0.5 * sum_{n,k} out[n, k]^2` has `dout = out`.  Write
#    `dW[i, k]` as a double sum over n and i' and say which matrix product it is.
# 3. *(derivation and code)* Leaky ReLU, `out = max(x, a x)` with 0 < a < 1: derive
#    `dx[n, j]`, write `leaky_relu_backward(dout, x, a)` and check it like exercise 2.
# 4. *(code)* `dec_np.gradcheck.numerical_gradient` on a 784 x 500 weight matrix calls the
#    forward pass twice per element: how many calls is that?  Check such a layer with
#    `dec_np.gradcheck.directional_check` instead (two calls) and compare the error.
# 5. *(experiment)* Repeat section 7 at h = 4e-3, the float32 optimum of section 6's
#    argument.  How close to float64's error does it come?
# 6. *(derivation)* The check in section 3 uses `L = sum(out * dout)` with a random `dout`
#    instead of, say, `L = sum(out)`.  Which bug in `dense_backward` would `L = sum(out)`
#    miss?  (Hint: what is `dout` then?)

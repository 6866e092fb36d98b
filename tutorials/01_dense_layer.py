# %% [markdown]
# # 01 · A dense layer, forward and backward by hand
#
# **What this teaches.** Every layer of DEC's network (Sec. 3.2 of the paper: the
# encoder f_theta is a stack of fully connected layers with ReLUs) is an affine map
# `out = x @ W + b`.  We derive its backward pass with the chain rule, code it, and check
# it against centred finite differences in float64 (`dec_np.gradcheck`), the way every
# gradient in this package is tested.  No equation of the paper is new here; this is
# the machinery that the paper's "standard backpropagation" relies on.
#
# Run it: `python tutorials/01_dense_layer.py` (a second or two, fast mode or not).

# %%
import numpy as np
from _common import figure_path

from dec_np.gradcheck import check_layer, numerical_gradient, rel_error, report
from dec_np.layers import Dense, ReLU, Sequential

rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. Forward
#
# For a batch `x` of shape (N, n_in), `W` (n_in, n_out) and `b` (n_out,):
# `out[n, k] = sum_i x[n, i] W[i, k] + b[k]`.  The layer keeps `x` in `self.cache`
# because the backward pass needs it.

# %%
layer = Dense(3, 2, init_std=1.0, dtype=np.float64, random_state=0)
x = rng.standard_normal((4, 3))
out = layer.forward(x)
print("out =\n", out)
assert np.allclose(out, x @ layer.params["W"] + layer.params["b"])

# %% [markdown]
# ## 2. Backward, derived
#
# Let L be any scalar and `dout = dL/dout` (N, n_out).  Since `out[n, k]` depends on
# `W[i, k]` through `x[n, i]`, on `b[k]` with slope 1, and on `x[n, i]` through `W[i, k]`:
#
# - `dW = x.T @ dout`  (n_in, n_out): summed over the batch
# - `db = dout.sum(axis=0)`  (n_out,)
# - `dx = dout @ W.T`  (N, n_in): what the layer below receives
#
# Each gradient has the shape of the thing it is the gradient of: a cheap first check.

# %%
dout = rng.standard_normal(out.shape)
dx = layer.backward(dout)
dW_by_hand, db_by_hand, dx_by_hand = x.T @ dout, dout.sum(axis=0), dout @ layer.params["W"].T
for name, a, b in [("W", layer.grads["W"], dW_by_hand), ("b", layer.grads["b"], db_by_hand),
                   ("x", dx, dx_by_hand)]:
    print(f"d{name}: shape {a.shape}, matches the formula: {np.allclose(a, b)}")

# %% [markdown]
# ## 3. Checked against finite differences
#
# Take the scalar `L = sum(forward(x) * dout)`; its gradient with respect to `out` is
# exactly `dout`, so `backward(dout)` must return dL/dx and fill dL/dW, dL/db.  The
# centred difference `(L(w + h) - L(w - h)) / 2h` has error O(h^2); in float64 with
# h = 1e-5 agreement to about 1e-9 is expected.  In float32 it would be far worse, which
# is why gradient checks always run in float64.

# %%
W = layer.params["W"]
num_dW = numerical_gradient(lambda _: (layer.forward(x) * dout).sum(), W)
print("one tensor by hand: rel error of dW =", rel_error(layer.grads["W"], num_dW))
print(report(check_layer(layer, x), title="Dense(3, 2), float64"))

# %% [markdown]
# ## 4. The same for a small network, and what a bug looks like
#
# `Sequential` chains layers; its backward calls theirs in reverse.  Then we plant a bug
# (forget to transpose W in dx) and watch the check fail.

# %%
net = Sequential(Dense(5, 4, 1.0, np.float64, random_state=1), ReLU(),
                 Dense(4, 3, 1.0, np.float64, random_state=2))
xs = rng.standard_normal((6, 5))
print(report(check_layer(net, xs), title="Dense-ReLU-Dense, checked as one layer"))


class BuggyDense(Dense):
    def backward(self, dout, need_dx=True):
        super().backward(dout)
        return dout @ self.params["W"]  # forgot the transpose


buggy = BuggyDense(3, 3, 1.0, np.float64, random_state=0)
print(report(check_layer(buggy, rng.standard_normal((4, 3))), title="a planted bug"))

# %% [markdown]
# ## 5. A picture: relative error against the step h
#
# Too large an h and the O(h^2) truncation error dominates; too small and float64
# round-off (about 1e-16 / h) does.  The sweet spot is near 1e-5.

# %%
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

hs = np.logspace(-12, -1, 23)
layer.forward(x)
layer.backward(dout)
errs = [rel_error(layer.grads["W"],
                  numerical_gradient(lambda _: (layer.forward(x) * dout).sum(), W, h))
        for h in hs]
# a nonlinear loss makes the truncation error visible: L = sum(out^3 * dout)
o = layer.forward(x)
dW_cubic = x.T @ (3 * o ** 2 * dout)
errs_cubic = [rel_error(dW_cubic,
                        numerical_gradient(lambda _: (layer.forward(x) ** 3 * dout).sum(), W, h))
              for h in hs]
fig, ax = plt.subplots(figsize=(5.5, 3.6))
ax.loglog(hs, np.maximum(errs, 1e-17), "o-", ms=3, label="L = sum(out * dout) (linear)")
ax.loglog(hs, np.maximum(errs_cubic, 1e-17), "s-", ms=3, label="L = sum(out^3 * dout)")
ax.axvline(1e-5, color="grey", ls=":", label="h = 1e-5 (our default)")
ax.set_xlabel("finite-difference step h")
ax.set_ylabel("relative error of dW")
ax.set_title("Centred differences in float64: truncation vs round-off", fontsize=10)
ax.grid(alpha=0.3, which="both")
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig(figure_path("01_gradcheck_step.png"), dpi=100)
print("wrote", figure_path("01_gradcheck_step.png"))

# %% [markdown]
# ## What to try next
#
# - Run the check in float32 (`dtype=np.float32`) and see the error grow to ~1e-3.
# - Use `dec_np.gradcheck.directional_check` on a 2000-wide layer, where the element-wise
#   check would need millions of forward passes.
# - Read `dec_np/layers.py`: `ReLU` and `Dropout` follow the same forward/backward pattern
#   (tutorial 02).

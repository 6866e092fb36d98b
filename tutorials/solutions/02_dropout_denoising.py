"""Reference solutions of tutorial 02 (dropout forward/backward, the reconstruction loss)."""


def dropout_forward(x, p_drop, rng):
    """Inverted dropout: keep a unit where u >= p_drop, scale the survivors by 1/(1-p_drop)."""
    u = rng.random(x.shape)
    mask = (u >= p_drop) / (1.0 - p_drop)
    return x * mask, mask


def dropout_backward(dout, mask):
    """dx = dout * mask, the mask of the forward pass."""
    return dout * mask


def mse_loss(x_hat, x, reduction="batch"):
    """0.5 * sum((x_hat - x)^2) / count and its gradient (x_hat - x) / count."""
    count = x.shape[0] if reduction == "batch" else x.shape[0] * x.shape[1]
    diff = x_hat - x
    return 0.5 * float((diff * diff).sum()) / count, diff / count

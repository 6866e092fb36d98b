"""Reference solutions of tutorial 01 (a dense layer and a ReLU, backward by hand)."""


def dense_backward(dout, x, W):
    """dx = dout @ W.T, dW = x.T @ dout, db = dout summed over the batch."""
    dx = dout @ W.T
    dW = x.T @ dout
    db = dout.sum(axis=0)
    return dx, dW, db


def relu_backward(dout, x):
    """dx = dout where x > 0, else 0 (the subgradient 0 at the kink)."""
    return dout * (x > 0)

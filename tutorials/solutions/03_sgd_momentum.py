"""Reference solutions of tutorial 03 (SGD with momentum, classical and Nesterov, in place)."""


def sgd_momentum_step(w, g, v, lr, momentum):
    """Caffe's rule, in place: v = momentum * v - lr * g; w += v."""
    v *= momentum
    v -= lr * g
    w += v


def sgd_nesterov_step(w, g, v, lr, momentum):
    """Nesterov in Sutskever's form, in place: v = momentum * v - lr * g; w += momentum * v - lr * g."""
    v *= momentum
    v -= lr * g
    w += momentum * v - lr * g

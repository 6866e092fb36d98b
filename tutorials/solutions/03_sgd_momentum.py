"""Reference solutions of tutorial 03 (SGD with momentum, classical and Nesterov, in place; a
fine-tuning stage: its steps with a floor, its rate with a cap)."""
import math


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


def adam_stage(n, iterations, batch_size, lr, min_epochs=None, lr_epochs=None):
    """The floor, then the cap: steps = max(iterations, ceil(min_epochs * B)), B = ceil(n / batch_size)
    batches an epoch; rate = lr * min(1, lr_epochs / (steps / B)); None skips either."""
    per_epoch = -(-n // batch_size)
    steps = iterations if min_epochs is None else max(iterations, math.ceil(min_epochs * per_epoch))
    return steps, lr if lr_epochs is None else lr * min(1.0, lr_epochs / (steps / per_epoch))

"""Stochastic gradient descent with momentum and a step learning-rate schedule."""
from __future__ import annotations

from .backend import get_array_module


class SGD:
    """SGD with momentum, updating parameters in place (Caffe's update rule).

    ``v = momentum * v - lr_t * (g + weight_decay * w)``; ``w += v``, where
    ``lr_t = lr * gamma ** (t // step_size)`` after ``t`` steps (no schedule if
    ``step_size`` is None).  Updates are in place, so arrays held by layers stay valid.

    Parameters
    ----------
    lr : float
    momentum : float, default 0.9
    weight_decay : float, default 0.0
    step_size : int or None
        Divide the learning rate by ``1/gamma`` every ``step_size`` steps
        (the paper: 20,000 with gamma 0.1).
    gamma : float, default 0.1
    """

    def __init__(self, lr, momentum=0.9, weight_decay=0.0, step_size=None, gamma=0.1):
        if lr <= 0 or not 0 <= momentum < 1 or weight_decay < 0:
            raise ValueError("need lr > 0, 0 <= momentum < 1 and weight_decay >= 0")
        if step_size is not None and step_size < 1:
            raise ValueError("step_size must be a positive number of steps or None")
        self.lr, self.momentum, self.weight_decay = float(lr), float(momentum), float(weight_decay)
        self.step_size, self.gamma = step_size, float(gamma)
        self.t = 0
        self.velocity = {}

    @property
    def current_lr(self):
        """The learning rate the next step will use."""
        if self.step_size is None:
            return self.lr
        return self.lr * self.gamma ** (self.t // self.step_size)

    def step(self, params, grads):
        """Apply one update to every array in ``params`` (dict) from ``grads`` (same keys)."""
        lr = self.current_lr
        for k, w in params.items():
            g = grads[k]
            v = self.velocity.get(k)
            if v is None:
                v = self.velocity[k] = get_array_module(w).zeros_like(w)
            v *= self.momentum
            if self.weight_decay:
                v -= (lr * self.weight_decay) * w
            v -= lr * g
            w += v
        self.t += 1

"""Finite-difference checks of every hand-written gradient, always in float64.

``numerical_gradient`` is the centred difference (f(x+h) - f(x-h)) / 2h, element by
element; ``rel_error`` compares two gradients; the ``check_*`` functions return one
relative error per tensor and can print a ``name | rel error | ok`` table.
"""
from __future__ import annotations

import numpy as np

from .backend import asnumpy, get_array_module


def numerical_gradient(f, x, h=1e-5):
    """Centred finite-difference gradient of the scalar function ``f`` at ``x``.

    ``x`` is perturbed in place, one element at a time, and restored.

    Parameters
    ----------
    f : callable
        ``f()`` or ``f(x)`` returning a scalar; it must read the current ``x``.
    x : ndarray (float64 for meaningful results)
    h : float

    Returns
    -------
    grad : ndarray, same shape as ``x``, with ``grad[i] = (f(x + h e_i) - f(x - h e_i)) / 2h``
    """
    xp = get_array_module(x)
    grad = xp.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = float(flat[i])
        flat[i] = old + h
        fp = float(f(x))
        flat[i] = old - h
        fm = float(f(x))
        flat[i] = old
        gflat[i] = (fp - fm) / (2 * h)
    return grad


def rel_error(a, b):
    """Relative error ``|a - b| / max(1e-8, |a| + |b|)`` with Euclidean norms over the whole tensor.

    Norm-wise rather than element-wise, so that entries that are exactly zero
    analytically (dead ReLU units) and 1e-12 numerically do not dominate.
    """
    a = asnumpy(a).astype(np.float64).ravel()
    b = asnumpy(b).astype(np.float64).ravel()
    return float(np.linalg.norm(a - b) / max(1e-8, np.linalg.norm(a) + np.linalg.norm(b)))


def directional_check(f, x, grad, h=1e-5, random_state=0):
    """Compare ``grad . r`` with ``(f(x + h r) - f(x - h r)) / 2h`` for a random unit direction r.

    One pair of function evaluations whatever the size of ``x``: the check for big tensors.
    Returns the relative error of the two directional derivatives.
    """
    xp = get_array_module(x)
    r = xp.asarray(np.random.default_rng(random_state).standard_normal(x.shape), dtype=x.dtype)
    r /= xp.linalg.norm(r)
    x += h * r
    fp = float(f(x))
    x -= 2 * h * r
    fm = float(f(x))
    x += h * r
    num = (fp - fm) / (2 * h)
    ana = float((grad * r).sum())
    return abs(num - ana) / max(1e-8, abs(num) + abs(ana))


def check_layer(layer, x, h=1e-5, random_state=0):
    """Check ``layer.backward`` for the input and every parameter tensor.

    The scalar checked is ``sum(forward(x, train=True) * dout)`` for a fixed random
    ``dout``; its gradient is exactly what ``backward(dout)`` returns and fills.

    Returns
    -------
    dict mapping "x" and each parameter name to a relative error.
    """
    xp = get_array_module(x)
    out = layer.forward(x, train=True)
    dout = xp.asarray(np.random.default_rng(random_state).standard_normal(out.shape), dtype=x.dtype)
    dx = layer.backward(dout)
    errors = {"x": rel_error(dx, numerical_gradient(lambda _: (layer.forward(x, True) * dout).sum(), x, h))}
    for k, w in layer.params.items():
        num = numerical_gradient(lambda _: (layer.forward(x, True) * dout).sum(), w, h)
        errors[k] = rel_error(layer.grads[k], num)
    return errors


def check_loss(loss_fn, x_hat, x, h=1e-5):
    """Check a loss ``loss_fn(x_hat, x) -> (loss, dx_hat)`` with respect to ``x_hat``."""
    _, dx_hat = loss_fn(x_hat, x)
    num = numerical_gradient(lambda _: loss_fn(x_hat, x)[0], x_hat, h)
    return {"x_hat": rel_error(dx_hat, num)}


def check_params(loss_and_grads, params, h=1e-5, directional_above=None):
    """Check analytic gradients of a scalar loss with respect to many parameter tensors.

    Parameters
    ----------
    loss_and_grads : callable
        ``loss_and_grads()`` returns ``(loss, grads)`` with ``grads`` a dict with the
        keys of ``params``; it must read the current parameter arrays.
    params : dict of name -> ndarray (perturbed in place and restored)
    directional_above : int or None
        Tensors with more elements than this get a :func:`directional_check` instead
        of the full element-wise one.
    """
    _, grads = loss_and_grads()
    grads = {k: g.copy() for k, g in grads.items()}
    errors = {}
    for k, w in params.items():
        f = lambda _: loss_and_grads()[0]
        if directional_above is not None and w.size > directional_above:
            errors[k] = directional_check(f, w, grads[k], h)
        else:
            errors[k] = rel_error(grads[k], numerical_gradient(f, w, h))
    return errors


def report(errors, tol=1e-6, title=None):
    """Format ``{name: rel error}`` as a ``name | rel error | ok`` table; returns the text."""
    width = max([len("tensor")] + [len(k) for k in errors])
    lines = [title] if title else []
    lines.append(f"{'tensor':<{width}} | rel error | ok")
    lines.append("-" * (width + 18))
    for k, e in errors.items():
        lines.append(f"{k:<{width}} | {e:9.2e} | {'ok' if e < tol else 'FAIL'}")
    return "\n".join(lines)

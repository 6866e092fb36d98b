"""Finite-difference checks of every hand-written gradient, always in float64.

``numerical_gradient`` is the centred difference (f(x+h) - f(x-h)) / 2h, element by
element; ``rel_error`` compares two gradients; the ``check_*`` functions return one
relative error per tensor, and :func:`report` formats them as a ``name | rel error | ok``
table.  ``print(report(check_all()))`` runs every check of the package in one call.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .backend import Array, ArrayModule, asnumpy, get_array_module

__all__ = ["numerical_gradient", "rel_error", "directional_check", "check_layer", "check_loss",
           "check_params", "check_all", "report"]


def numerical_gradient(f: Callable[..., Any], x: Array, h: float = 1e-5) -> Array:
    """Centred finite-difference gradient of the scalar function ``f`` at ``x``.

    ``x`` is perturbed in place, one element at a time, and restored.

    Parameters
    ----------
    f : callable
        Called as ``f(x)``, returning a scalar (anything ``float()`` accepts); it must
        read the current values of ``x``.
    x : ndarray
        The point, perturbed in place and restored; float64 for meaningful results.
    h : float, default 1e-5
        The step of the centred difference.

    Returns
    -------
    grad : ndarray
        Same shape, dtype and device as ``x``, with
        ``grad[i] = (f(x + h e_i) - f(x - h e_i)) / 2h``.

    Examples
    --------
    >>> import numpy as np
    >>> from dec_np.gradcheck import numerical_gradient
    >>> x = np.array([1.0, -2.0, 3.0])
    >>> g = numerical_gradient(lambda x: (x ** 3).sum(), x)   # 3 x^2
    >>> g.round(6).tolist()
    [3.0, 12.0, 27.0]
    >>> x.tolist()                                              # restored
    [1.0, -2.0, 3.0]
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


def rel_error(a: Any, b: Any) -> float:
    """Relative error ``|a - b| / max(1e-8, |a| + |b|)`` with Euclidean norms over the whole tensor.

    Norm-wise rather than element-wise, so that entries that are exactly zero
    analytically (dead ReLU units) and 1e-12 numerically do not dominate.

    Parameters
    ----------
    a, b : Array or array-like
        The two gradients, same number of elements, either device; compared in float64.

    Returns
    -------
    float
        0 for equal tensors; about 1e-10 or less for a correct float64 gradient against
        :func:`numerical_gradient`; 1 when one of them is zero and the other is not.

    Examples
    --------
    >>> import numpy as np
    >>> from dec_np.gradcheck import rel_error
    >>> rel_error(np.array([3.0, 4.0]), np.array([3.0, 4.0]))
    0.0
    >>> f"{rel_error(np.array([3.0, 4.0]), np.array([3.0, 4.00001])):.1e}"
    '1.0e-06'
    >>> rel_error(np.zeros(2), np.ones(2))
    1.0
    """
    a = asnumpy(a).astype(np.float64).ravel()
    b = asnumpy(b).astype(np.float64).ravel()
    norm = float(np.linalg.norm(a)) + float(np.linalg.norm(b))
    return float(np.linalg.norm(a - b)) / max(1e-8, norm)


def directional_check(f: Callable[..., Any], x: Array, grad: Array, h: float = 1e-5,
                      random_state: int = 0) -> float:
    """Compare ``grad . r`` with ``(f(x + h r) - f(x - h r)) / 2h`` for a random unit direction r.

    One pair of function evaluations whatever the size of ``x``: the check for big tensors.

    Parameters
    ----------
    f : callable
        Called as ``f(x)``, returning a scalar; it must read the current values of ``x``.
    x : ndarray
        The point, perturbed in place and restored (up to rounding); float64.
    grad : ndarray
        The analytic gradient of ``f`` at ``x``, same shape.
    h : float, default 1e-5
        The step along ``r``.
    random_state : int, default 0
        Seeds the direction ``r``.

    Returns
    -------
    float
        The relative error ``|num - ana| / max(1e-8, |num| + |ana|)`` of the two
        directional derivatives.
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


def check_layer(layer: Any, x: Array, h: float = 1e-5, random_state: int = 0
                ) -> dict[str, float]:
    """Check ``layer.backward`` for the input and every parameter tensor.

    The scalar checked is ``sum(forward(x, train=True) * dout)`` for a fixed random
    ``dout``; its gradient is exactly what ``backward(dout)`` returns and fills.

    Parameters
    ----------
    layer : Dense, ReLU, Dropout or Sequential
        Any layer with ``params``, ``grads``, ``forward(x, train)`` and ``backward(dout)``,
        with float64 parameters (a Dropout needs ``freeze_mask = True``).
    x : ndarray of shape (N, d_in)
        The input, float64; perturbed in place and restored.
    h : float, default 1e-5
        The finite-difference step.
    random_state : int, default 0
        Seeds ``dout``.

    Returns
    -------
    errors : dict of str to float
        "x" and each parameter name, mapped to a relative error (:func:`rel_error`).
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


def check_loss(loss_fn: Callable[[Array, Array], tuple[Any, Array]], x_hat: Array, x: Array,
               h: float = 1e-5) -> dict[str, float]:
    """Check a loss ``loss_fn(x_hat, x) -> (loss, dx_hat)`` with respect to ``x_hat``.

    Parameters
    ----------
    loss_fn : callable
        Such as :func:`dec_np.losses.mse`: returns the loss and its gradient in ``x_hat``.
    x_hat : ndarray of shape (N, d)
        The prediction, float64; perturbed in place and restored.
    x : ndarray of shape (N, d)
        The target.
    h : float, default 1e-5
        The finite-difference step.

    Returns
    -------
    errors : dict of str to float
        ``{"x_hat": relative error}``.
    """
    _, dx_hat = loss_fn(x_hat, x)
    num = numerical_gradient(lambda _: loss_fn(x_hat, x)[0], x_hat, h)
    return {"x_hat": rel_error(dx_hat, num)}


def check_params(loss_and_grads: Callable[[], tuple[Any, dict[str, Array]]],
                 params: dict[str, Array], h: float = 1e-5,
                 directional_above: int | None = None) -> dict[str, float]:
    """Check analytic gradients of a scalar loss with respect to many parameter tensors.

    Parameters
    ----------
    loss_and_grads : callable
        ``loss_and_grads()`` returns ``(loss, grads)`` with ``grads`` a dict with the
        keys of ``params``; it must read the current parameter arrays.
    params : dict of str to ndarray
        The tensors to check, float64; perturbed in place and restored.
    h : float, default 1e-5
        The finite-difference step.
    directional_above : int or None, default None
        Tensors with more elements than this get a :func:`directional_check` instead
        of the full element-wise one; None: always element-wise.

    Returns
    -------
    errors : dict of str to float
        One relative error per key of ``params``.
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


def check_all(xp: ArrayModule = np, seed: int = 0) -> dict[str, float]:
    """Every finite-difference check of the package, in float64: {name: rel error}.

    Dense, ReLU, Dropout (fixed mask), the MSE loss, a whole SAE, KL(P||Q) with respect to z
    and mu for several alpha (P fixed, Eq. 4 and 5), and the DEC loss back-propagated through
    an encoder.  Takes about two seconds on one CPU core.

    Parameters
    ----------
    xp : module, default numpy
        The backend to check, :mod:`numpy` or :mod:`cupy`.
    seed : int, default 0
        Seeds the random inputs and weights.

    Returns
    -------
    errors : dict of str to float
        ``"<check>.<tensor>"`` (``"Dense.W"``, ``"KL(alpha=1).z"``, ...) mapped to its
        relative error; all below 1e-6 when every gradient is right.

    Examples
    --------
    >>> from dec_np.gradcheck import check_all, report
    >>> errors = check_all()
    >>> len(errors), max(errors.values()) < 1e-6
    (31, True)
    >>> table = report({k: errors[k] for k in ("Dense.W", "MSE.x_hat")}, tol=1e-6)
    >>> print(table)  # doctest: +ELLIPSIS
    tensor    | rel error | ok
    ---------------------------
    Dense.W   | ...e-... | ok
    MSE.x_hat | ...e-... | ok
    """
    # imported here: the checks use the whole package, which itself imports this module
    from .autoencoder import StackedAutoencoder
    from .dec_math import kl_divergence, kl_gradients, soft_assignment, target_distribution
    from .layers import Dense, Dropout, ReLU, Sequential
    from .losses import mse
    rng, f64 = np.random.default_rng(seed), np.float64
    randn = lambda *shape: xp.asarray(rng.standard_normal(shape))
    backend = "numpy" if xp is np else "cupy"
    errors = {}
    add = lambda name, errs: errors.update({f"{name}.{k}": v for k, v in errs.items()})
    x = randn(5, 4)
    add("Dense", check_layer(Dense(4, 3, 0.5, f64, xp, seed), x))
    add("ReLU", check_layer(ReLU(), x + 0.1 * xp.sign(x)))  # away from the kink at 0
    drop = Dropout(0.5, random_state=seed)
    drop.freeze_mask = True
    add("Dropout(fixed mask)", check_layer(drop, x))
    add("MSE", check_loss(mse, randn(5, 4), x))

    sae = StackedAutoencoder((6, 8, 7, 3), init_std=0.5, dtype=f64, backend=backend,
                             random_state=seed)
    net, xs = Sequential(*sae.encoder().layers, *sae.decoder().layers), randn(10, 6)

    def sae_loss():
        loss, dout = mse(net.forward(xs, train=True), xs)
        net.backward(dout)
        return loss, sae.grads
    add("SAE", check_params(sae_loss, sae.params))

    for alpha in (0.5, 1.0, 2.0, 10.0):
        z, mu = randn(8, 3), randn(4, 3)
        p = target_distribution(soft_assignment(z, mu, alpha))  # fixed, as between updates

        def kl(z=z, mu=mu, p=p, alpha=alpha):
            q = soft_assignment(z, mu, alpha)
            dz, dmu = kl_gradients(z, mu, p, q, alpha)
            return kl_divergence(p, q), {"z": dz, "mu": dmu}
        add(f"KL(alpha={alpha:g})", check_params(kl, {"z": z, "mu": mu}))

    enc_sae = StackedAutoencoder((6, 8, 3), init_std=0.5, dtype=f64, backend=backend,
                                 random_state=seed + 1)
    enc, mu = enc_sae.encoder(), randn(4, 3)
    p = target_distribution(soft_assignment(enc.forward(xs), mu))
    params = {k: v for k, v in enc_sae.params.items() if k.startswith("enc")}

    def dec_loss():
        z = enc.forward(xs, train=True)
        q = soft_assignment(z, mu)
        dz, dmu = kl_gradients(z, mu, p, q)
        enc.backward(dz)
        return kl_divergence(p, q), dict({k: enc_sae.grads[k] for k in params}, mu=dmu)
    add("DEC through encoder", check_params(dec_loss, dict(params, mu=mu)))
    return errors


def report(errors: dict[str, float], tol: float = 1e-6, title: str | None = None) -> str:
    """Format ``{name: rel error}`` as a ``name | rel error | ok`` table; returns the text.

    Parameters
    ----------
    errors : dict of str to float
        Relative errors, as :func:`check_all` returns them.
    tol : float, default 1e-6
        Errors below it are marked "ok", the others "FAIL".
    title : str, optional
        A first line above the table.

    Returns
    -------
    str
        The table, one line per tensor, without a trailing newline.
    """
    width = max([len("tensor")] + [len(k) for k in errors])
    lines = [title] if title else []
    lines.append(f"{'tensor':<{width}} | rel error | ok")
    lines.append("-" * (width + 18))
    for k, e in errors.items():
        lines.append(f"{k:<{width}} | {e:9.2e} | {'ok' if e < tol else 'FAIL'}")
    return "\n".join(lines)

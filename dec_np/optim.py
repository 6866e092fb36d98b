"""Stochastic gradient descent with momentum and a step learning-rate schedule."""
from __future__ import annotations

from .backend import Array, end_to_end, follows, get_array_module, joined
from .threads import on_host, split, threads_for

__all__ = ["SGD", "Adam"]


class SGD:
    """SGD with momentum, updating parameters in place (Caffe's update rule).

    ``v = momentum * v - lr_t * (g + weight_decay * w)``; ``w += v`` (classical momentum), or
    ``w += momentum * v - lr_t * (g + weight_decay * w)`` with ``nesterov=True`` (Nesterov's
    look-ahead in the form of Sutskever et al. 2013, as PyTorch writes it), where
    ``lr_t = lr * gamma ** (t // step_size) * min(1, (t + 1) / warmup)`` after ``t`` steps
    (no step schedule if ``step_size`` is None, no ramp if ``warmup`` is 0).  Updates are in
    place, so arrays held by layers stay valid.

    Parameters
    ----------
    lr : float
        The base learning rate, > 0.
    momentum : float, default 0.9
        Momentum coefficient, in [0, 1).
    weight_decay : float, default 0.0
        L2 penalty coefficient added to the gradient (``g + weight_decay * w``), >= 0.
    step_size : int or None, default None
        Multiply the learning rate by ``gamma`` every ``step_size`` steps
        (the paper: 20,000 with gamma 0.1); None: no step schedule.
    gamma : float, default 0.1
        Factor of the step schedule.
    warmup : int, default 0
        Ramp the learning rate linearly from ``lr / warmup`` up to ``lr`` over the first
        ``warmup`` steps.  At the start, with small random weights, a full-size step can
        push ReLU units of the first layer to where no input ever activates them again
        (13% of the 500 units within 30 steps at lr 1.0, batch 64, the "b64-steps" setting
        on MNIST); a ramp keeps them.
    nesterov : bool, default False
        Use Nesterov's accelerated gradient instead of classical momentum.

    Attributes
    ----------
    t : int
        Steps taken so far.
    velocity : dict of str to Array
        The momentum buffer ``v`` of every parameter, created at its first step.

    Raises
    ------
    ValueError
        For lr <= 0, momentum outside [0, 1), weight_decay < 0, step_size < 1 or
        warmup < 0.

    Examples
    --------
    Minimise ``f(w) = w^2 / 2`` (gradient ``w``) from ``w = 1``:

    >>> import numpy as np
    >>> from dec_np.optim import SGD
    >>> w = np.array([1.0])
    >>> opt = SGD(lr=0.1, momentum=0.5)
    >>> opt.step({"w": w}, {"w": w.copy()})   # v = -0.1; w = 0.9, in place
    >>> round(float(w[0]), 4)
    0.9
    >>> for _ in range(49):
    ...     opt.step({"w": w}, {"w": w.copy()})
    >>> opt.t, abs(float(w[0])) < 1e-3
    (50, True)
    >>> SGD(lr=1.0, step_size=10, gamma=0.1, warmup=4).current_lr  # ramp: 1/4 at t = 0
    0.25
    """

    def __init__(self, lr: float, momentum: float = 0.9, weight_decay: float = 0.0,
                 step_size: int | None = None, gamma: float = 0.1, warmup: int = 0,
                 nesterov: bool = False) -> None:
        if lr <= 0 or not 0 <= momentum < 1 or weight_decay < 0:
            raise ValueError("need lr > 0, 0 <= momentum < 1 and weight_decay >= 0")
        if step_size is not None and step_size < 1:
            raise ValueError("step_size must be a positive number of steps or None")
        self.lr, self.momentum, self.weight_decay = float(lr), float(momentum), float(weight_decay)
        if warmup < 0:
            raise ValueError("warmup must be a number of steps >= 0")
        self.step_size, self.gamma, self.warmup = step_size, float(gamma), int(warmup)
        self.nesterov = bool(nesterov)
        self.t = 0
        self.velocity: dict[str, Array] = {}
        self._plan: dict = {}  # the pieces of the last step's arrays (see _update)

    @property
    def current_lr(self) -> float:
        """The learning rate the next step will use (step schedule and warmup applied)."""
        lr = self.lr
        if self.step_size is not None:
            lr *= self.gamma ** (self.t // self.step_size)
        if self.t < self.warmup:
            lr *= (self.t + 1) / self.warmup
        return lr

    def step(self, params: dict[str, Array], grads: dict[str, Array]) -> None:
        """Apply one update to every array in ``params``, in place, and count the step.

        Parameters
        ----------
        params : dict of str to Array
            The parameter arrays, updated in place (so references held by layers stay
            valid).
        grads : dict of str to Array
            The gradient of the loss for every key of ``params``, same shapes.
        """
        lr, mom, wd, nesterov = self.current_lr, self.momentum, self.weight_decay, self.nesterov
        self.velocity.update(_zeros(params, self.velocity))

        def update(w, g, v, step):
            xp = get_array_module(w)
            if wd:  # step = lr * (g + weight_decay * w)
                xp.multiply(w, wd, out=step)
                step += g
                step *= lr
            else:  # step = lr * g
                xp.multiply(g, lr, out=step)
            v *= mom
            v -= step
            if nesterov:  # w += momentum * v - step
                step -= v * mom
                w -= step
            else:
                w += v

        # four passes a weight: memory-bound, and slower shared between two host threads
        # than in one (docs/performance.md), so the pieces stay in the calling thread
        _update(update, [(w, grads[k], self.velocity[k]) for k, w in params.items()], 1,
                self._plan, share=False)
        self.t += 1


class Adam:
    """Adam (Kingma & Ba, 2015), updating parameters in place; same ``step`` as :class:`SGD`.

    ``m = b1 m + (1-b1) g``; ``v = b2 v + (1-b2) g^2``;
    ``w -= lr_t * m_hat / (sqrt(v_hat) + eps)`` with bias-corrected ``m_hat``, ``v_hat`` and the
    same step schedule and ``warmup`` ramp as :class:`SGD`.  Not in the paper; the default
    schedule "adam" pretrains the autoencoder with it end to end (see README, "How the
    defaults were chosen").

    Parameters
    ----------
    lr : float, default 1e-3
        The base learning rate, > 0.
    beta1 : float, default 0.9
        Decay of the first-moment estimate ``m``, in [0, 1).
    beta2 : float, default 0.999
        Decay of the second-moment estimate ``v``, in [0, 1).
    eps : float, default 1e-8
        Added to ``sqrt(v_hat)`` in the denominator.
    step_size : int or None, default None
        Multiply the learning rate by ``gamma`` every ``step_size`` steps; None: never.
    gamma : float, default 0.1
        Factor of the step schedule.
    warmup : int, default 0
        Linear learning-rate ramp over the first ``warmup`` steps, as in :class:`SGD`.

    Raises
    ------
    ValueError
        For lr <= 0, a beta outside [0, 1) or warmup < 0.
    """

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8, step_size: int | None = None, gamma: float = 0.1,
                 warmup: int = 0) -> None:
        if lr <= 0 or not 0 <= beta1 < 1 or not 0 <= beta2 < 1 or warmup < 0:
            raise ValueError("need lr > 0, betas in [0, 1) and warmup >= 0")
        self.lr, self.beta1, self.beta2, self.eps = float(lr), float(beta1), float(beta2), float(eps)
        self.step_size, self.gamma, self.warmup = step_size, float(gamma), int(warmup)
        self.t = 0
        self.m: dict[str, Array] = {}
        self.v: dict[str, Array] = {}
        self._plan: dict = {}  # the pieces of the last step's arrays (see _update)

    @property
    def current_lr(self) -> float:
        """The learning rate the next step will use, as :attr:`SGD.current_lr` computes it."""
        return SGD.current_lr.fget(self)  # type: ignore[attr-defined,arg-type]

    def step(self, params: dict[str, Array], grads: dict[str, Array]) -> None:
        """Apply one Adam update to every array in ``params``, in place.

        Parameters
        ----------
        params : dict of str to Array
            The parameter arrays, updated in place.
        grads : dict of str to Array
            The gradient of the loss for every key of ``params``, same shapes.
        """
        lr = self.current_lr
        self.t += 1
        c1 = 1.0 - self.beta1 ** self.t
        c2 = 1.0 - self.beta2 ** self.t
        b1, b2, eps, rate = self.beta1, self.beta2, self.eps, lr / c1
        self.m.update(_zeros(params, self.m))
        self.v.update(_zeros(params, self.v))

        def update(w, g, m, v, buf, buf2):
            xp = get_array_module(w)
            m *= b1  # m = b1 m + (1 - b1) g
            xp.multiply(g, 1.0 - b1, out=buf)
            m += buf
            v *= b2  # v = b2 v + (1 - b2) g^2
            xp.multiply(g, g, out=buf)
            buf *= 1.0 - b2
            v += buf
            xp.divide(v, c2, out=buf)  # w -= (lr / c1) m / (sqrt(v / c2) + eps)
            xp.sqrt(buf, out=buf)
            buf += eps
            xp.multiply(m, rate, out=buf2)
            buf2 /= buf
            w -= buf2

        _update(update, [(w, grads[k], self.m[k], self.v[k]) for k, w in params.items()], 2,
                self._plan)


#: elements per piece of an update on the host, per thread that shares it: the pieces of every
#: array of one update (weights, gradient, moments, scratch) stay in the CPU's cache from one
#: operation to the next; threads that share the pieces are faster with pieces as many times
#: as long (docs/performance.md, "The optimisers' pieces")
CHUNK = 1 << 16


def _pieces(w, *others, chunk):
    """Views of ``w`` and ``others`` that together cover them: runs of ``chunk`` elements.

    On the host a C-contiguous ``w`` (with ``others`` of its shape, also C-contiguous) is
    cut into flat runs, so that the element-wise operations of an update work on data in
    the cache rather than stream whole arrays through memory once per operation.  On a
    GPU, or for a non-contiguous array, the whole arrays are one piece.
    """
    arrays = (w, *others)
    if not on_host(w) or w.size <= chunk or \
            not all(a.flags.c_contiguous and a.shape == w.shape for a in arrays):
        return [arrays]
    flat = [a.reshape(-1) for a in arrays]
    return [tuple(a[s:s + chunk] for a in flat) for s in range(0, w.size, chunk)]


def _zeros(params, state):
    """Zeros for the keys of ``params`` that ``state`` lacks, laid end to end in one buffer
    when they share a dtype and device (so that :func:`_runs` can join them)."""
    new = [k for k in params if k not in state]
    arrays = [get_array_module(params[k]).zeros_like(params[k]) for k in new]
    if len({(type(a), a.dtype) for a in arrays}) == 1:
        arrays = end_to_end(arrays)
    return dict(zip(new, arrays))


def _runs(arrays):
    """The tuples of ``arrays`` with neighbours joined: where the weights, gradients and
    state of consecutive tuples each lie end to end in one buffer (as the layers of a
    :class:`~dec_np.autoencoder.StackedAutoencoder` and this module's state keep them),
    one tuple of flat views stands for them all, and the update runs once over it."""
    out, i = [], 0
    while i < len(arrays):
        j = i + 1
        while j < len(arrays) and all(follows(a, b) for a, b in zip(arrays[j - 1], arrays[j])):
            j += 1
        group = arrays[i:j]
        flat = tuple(joined(list(col)) for col in zip(*group)) if len(group) > 1 else None
        if flat is not None and all(f is not None for f in flat):
            out.append(flat)
        else:  # one array each (or a buffer that is not one flat array: updated apart)
            out.extend(group)
        i = j
    return out


def _update(update, arrays, extra, plan, share=True):
    """``update(*piece, *scratch)`` on every piece of every tuple of ``arrays``, in place.

    ``extra`` scratch arrays of each piece's shape follow the piece; pieces have at most
    :data:`CHUNK` elements for every thread that shares them (:func:`_pieces`).  Tuples whose
    arrays lie end to end are joined first (:func:`_runs`); ``plan`` (a dict the optimiser
    keeps) remembers the pieces for the same arrays and piece length, so the next step with
    them skips the search.
    Every element sees the same operations in the same order whatever the pieces, so the
    result is the same to the bit as the update of whole arrays; inside
    :func:`dec_np.threads.host_threads` the pieces are shared among the threads when
    ``share`` is true.
    """
    given = [a for group in arrays for a in group]
    if not given:
        return
    chunk = CHUNK * (threads_for(given[0]) if share else 1)
    known = plan.get("arrays", ())
    if plan.get("chunk") == chunk and len(known) == len(given) and \
            all(a is b for a, b in zip(known, given)):
        pieces = plan["pieces"]
    else:
        pieces = [p for group in _runs(arrays) for p in _pieces(*group, chunk=chunk)]
        plan.update(arrays=given, pieces=pieces, chunk=chunk)

    def run(part):
        rooms = {}  # scratch for the largest piece of each dtype, reused by the others
        for piece in part:
            w = piece[0]
            size, shape = w.size, w.shape
            if w.dtype not in rooms:
                most = max(p[0].size for p in part if p[0].dtype == w.dtype)
                rooms[w.dtype] = get_array_module(w).empty(extra * most, dtype=w.dtype)
            room = rooms[w.dtype]
            update(*piece, *(room[i * size:(i + 1) * size].reshape(shape) for i in range(extra)))

    if not share:
        run(pieces)
        return
    # about ten operations an element: a few hundred thousand weights make it worth a thread
    split(run, pieces, 10 * sum(p[0].size for p in pieces), pieces[0][0])

import numpy as np
import pytest

from dec_np.backend import asnumpy
from dec_np.gradcheck import check_loss
from dec_np.losses import mse
from dec_np.optim import SGD, Adam


def test_mse_known_value(xp):
    x_hat = xp.asarray([[1.0, 2.0], [0.0, 0.0]])
    x = xp.asarray([[0.0, 0.0], [0.0, 2.0]])
    loss, dx_hat = mse(x_hat, x)
    # (1 + 4 + 4) / (2 * 2)
    assert float(loss) == pytest.approx(2.25)
    assert dx_hat.tolist() == [[0.5, 1.0], [0.0, -1.0]]


def test_mse_gradient(xp):
    rng = np.random.default_rng(0)
    x_hat, x = (xp.asarray(rng.standard_normal((5, 4))) for _ in range(2))
    assert check_loss(mse, x_hat, x)["x_hat"] < 1e-6


def test_sgd_momentum_by_hand():
    w = np.array([1.0, -2.0])
    opt = SGD(lr=0.1, momentum=0.9)
    opt.step({"w": w}, {"w": np.array([0.5, 1.0])})
    # v1 = -0.1 * g = [-0.05, -0.1]
    np.testing.assert_allclose(w, [0.95, -2.1])
    opt.step({"w": w}, {"w": np.array([1.0, 0.0])})
    # v2 = 0.9 v1 - 0.1 g = [-0.145, -0.09]
    np.testing.assert_allclose(w, [0.805, -2.19])


def test_sgd_nesterov_by_hand():
    w = np.array([1.0, -2.0])
    opt = SGD(lr=0.1, momentum=0.9, nesterov=True)
    opt.step({"w": w}, {"w": np.array([0.5, 1.0])})
    # v1 = -0.1 g = [-0.05, -0.1]; w += 0.9 v1 - 0.1 g = [-0.095, -0.19]
    np.testing.assert_allclose(w, [0.905, -2.19])
    opt.step({"w": w}, {"w": np.array([1.0, 0.0])})
    # v2 = 0.9 v1 - 0.1 g = [-0.145, -0.09]; w += 0.9 v2 - 0.1 g = [-0.2305, -0.081]
    np.testing.assert_allclose(w, [0.6745, -2.271])


def test_sgd_nesterov_on_a_quadratic_beats_plain_momentum():
    # f(w) = 0.5 * 10 w^2: Nesterov damps the oscillation that heavy-ball momentum shows
    ends = {}
    for nesterov in (False, True):
        w, opt = np.array([1.0]), SGD(lr=0.05, momentum=0.9, nesterov=nesterov)
        for _ in range(50):
            opt.step({"w": w}, {"w": 10 * w})
        ends[nesterov] = abs(w[0])
    assert ends[True] < ends[False]


def test_sgd_weight_decay_by_hand():
    w = np.array([2.0])
    SGD(lr=0.5, momentum=0.0, weight_decay=0.1).step({"w": w}, {"w": np.array([1.0])})
    np.testing.assert_allclose(w, [2.0 - 0.5 * (1.0 + 0.1 * 2.0)])


def test_sgd_updates_in_place_and_keeps_dtype(xp):
    w = xp.ones(3, dtype=xp.float32)
    ref = w
    SGD(lr=0.1).step({"w": w}, {"w": xp.ones(3, dtype=xp.float32)})
    assert ref is w and w.dtype == xp.float32
    assert float(w[0]) == pytest.approx(0.9)


def test_step_schedule():
    opt = SGD(lr=0.1, step_size=3, gamma=0.1)
    w, g = np.zeros(1), np.zeros(1)
    seen = []
    for _ in range(8):
        seen.append(opt.current_lr)
        opt.step({"w": w}, {"w": g})
    np.testing.assert_allclose(seen, [0.1] * 3 + [0.01] * 3 + [0.001] * 2)


def test_warmup_ramps_the_learning_rate_then_holds_it():
    opt = SGD(lr=1.0, warmup=4, step_size=6, gamma=0.5)
    w, g = np.zeros(1), np.ones(1)
    seen = []
    for _ in range(8):
        seen.append(opt.current_lr)
        opt.step({"w": w}, {"w": g})
    np.testing.assert_allclose(seen, [0.25, 0.5, 0.75, 1.0, 1.0, 1.0, 0.5, 0.5])
    # with momentum 0.9 the velocity sums the ramped steps
    v = 0.0
    for lr in seen:
        v = 0.9 * v - lr
    assert opt.velocity["w"][0] == pytest.approx(v)


def test_warmup_keeps_first_layer_relus_alive():
    """Full-size steps on small random weights kill ReLU units of a DAE at once; a ramp not."""
    from dec_np import StackedAutoencoder
    rng = np.random.default_rng(0)
    X = (rng.random((2000, 64)) < 0.2).astype(np.float32) * 2.2  # sparse, MNIST-like scale
    dead = []
    for warmup in (0, 100):
        sae = StackedAutoencoder((64, 128, 10), p_drop=0.2, init_std=0.01, loss_reduction="mean",
                                 random_state=0)
        sae.pretrain_layerwise(X, iterations=100, batch_size=32, lr=4.0, warmup=warmup)
        W, b = (asnumpy(sae.encoders[0].params[k]) for k in ("W", "b"))  # on the host
        h = np.maximum(X @ W + b, 0)
        dead.append(float((h.max(0) <= 0).mean()))
    assert dead[1] < dead[0] and dead[1] <= 0.01, dead


@pytest.mark.parametrize("kw", [{"lr": 0}, {"lr": 0.1, "momentum": 1.0}, {"lr": 0.1, "step_size": 0},
                                {"lr": 0.1, "warmup": -1}])
def test_sgd_rejects_bad_settings(kw):
    with pytest.raises(ValueError):
        SGD(**kw)


def test_mse_mean_reduction(xp):
    x_hat = xp.asarray([[1.0, 2.0], [0.0, 0.0]])
    x = xp.asarray([[0.0, 0.0], [0.0, 2.0]])
    loss, dx_hat = mse(x_hat, x, reduction="mean")
    assert float(loss) == pytest.approx(9 / 8)
    assert dx_hat.tolist() == [[0.25, 0.5], [0.0, -0.5]]
    rng = np.random.default_rng(1)
    a, b = (xp.asarray(rng.standard_normal((3, 5))) for _ in range(2))
    assert check_loss(lambda u, v: mse(u, v, "mean"), a, b)["x_hat"] < 1e-6
    with pytest.raises(ValueError, match="reduction"):
        mse(a, b, reduction="sum")


def test_adam_first_steps_by_hand():
    from dec_np.optim import Adam
    w = np.array([1.0, -1.0])
    opt = Adam(lr=0.1)
    opt.step({"w": w}, {"w": np.array([0.5, -2.0])})
    # first step: m_hat = g, v_hat = g^2, so the update is lr * sign(g) (up to eps)
    np.testing.assert_allclose(w, [0.9, -0.9], rtol=1e-6)
    opt.step({"w": w}, {"w": np.array([0.5, 0.0])})
    m = np.array([0.9 * 0.05 + 0.05, 0.9 * -0.2]) / (1 - 0.9 ** 2)
    v = np.array([0.999 * 0.00025 + 0.00025, 0.999 * 0.004]) / (1 - 0.999 ** 2)
    np.testing.assert_allclose(w, np.array([0.9, -0.9]) - 0.1 * m / (np.sqrt(v) + 1e-8), rtol=1e-6)


def _reference_steps(kind, opts, params, grads_seq):
    """The update rules written as whole-array expressions, one temporary per operation."""
    state = {k: [np.zeros_like(w), np.zeros_like(w)] for k, w in params.items()}
    for t, grads in enumerate(grads_seq, start=1):
        for k, w in params.items():
            g, (a, b) = grads[k], state[k]
            if kind == "adam":
                lr, c1, c2 = opts["lr"], 1.0 - 0.9 ** t, 1.0 - 0.999 ** t
                a *= 0.9
                a += (1.0 - 0.9) * g
                b *= 0.999
                b += (1.0 - 0.999) * (g * g)
                w -= (lr / c1) * a / ((b / c2) ** 0.5 + 1e-8)
            else:
                lr, mom, wd = opts["lr"], opts.get("momentum", 0.9), opts.get("weight_decay", 0.0)
                step = lr * g if not wd else lr * (g + wd * w)
                a *= mom
                a -= step
                if opts.get("nesterov"):
                    w += mom * a - step
                else:
                    w += a


@pytest.mark.parametrize("kind, opts", [("adam", {"lr": 1e-3}), ("sgd", {"lr": 0.05}),
                                        ("sgd", {"lr": 0.05, "nesterov": True}),
                                        ("sgd", {"lr": 0.05, "weight_decay": 0.01})])
def test_chunked_steps_equal_the_whole_array_formulas_to_the_bit(kind, opts):
    # the host update runs piece by piece (optim.CHUNK elements) to stay in the cache; every
    # element must see the same float32 operations in the same order as the formula
    from dec_np import optim
    rng = np.random.default_rng(3)
    shapes = {"W": (3 * optim.CHUNK // 100 + 7, 100), "b": (100,), "T": (40, 60)}
    params = {k: rng.standard_normal(s).astype(np.float32) for k, s in shapes.items()}
    params["T"] = np.asfortranarray(params["T"])  # not C-contiguous: updated whole
    grads_seq = [{k: (rng.standard_normal(s) * 1e-2).astype(np.float32) for k, s in shapes.items()}
                 for _ in range(4)]
    ours = {k: v.copy(order="K") for k, v in params.items()}
    start = {k: v.copy() for k, v in params.items()}
    opt = optim.Adam(**opts) if kind == "adam" else optim.SGD(**opts)
    assert ours["W"].size > 2 * optim.CHUNK
    for grads in grads_seq:
        opt.step(ours, grads)
    _reference_steps(kind, opts, params, grads_seq)
    for k in params:
        assert ours[k].tobytes() == params[k].tobytes(), k
        assert not np.array_equal(ours[k], start[k])  # the steps did move every array


@pytest.mark.parametrize("make", [lambda: SGD(0.1, momentum=0.9, weight_decay=0.01),
                                  lambda: Adam(0.01)])
def test_arrays_end_to_end_update_as_one(make):
    """Weights laid end to end (as a StackedAutoencoder keeps them) are updated in one pass
    of each operation, to the same bits as array by array; moved apart, array by array."""
    import copy

    from dec_np.backend import end_to_end, joined
    from dec_np.optim import _runs

    rng = np.random.default_rng(0)
    shapes = [(7, 5), (5,), (5, 3), (3,)]
    ws = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    packed = dict(zip("abcd", end_to_end(ws)))
    apart = {k: v.copy() for k, v in packed.items()}
    grads = dict(zip("abcd", end_to_end([np.zeros(s, np.float32) for s in shapes])))
    opt_packed, opt_apart = make(), make()
    for _ in range(3):
        for g in grads.values():
            g[...] = rng.standard_normal(g.shape)
        opt_packed.step(packed, grads)
        opt_apart.step(apart, copy.deepcopy(grads))
    for k in packed:
        np.testing.assert_array_equal(packed[k], apart[k])
    assert joined(list(packed.values())) is not None
    assert len(opt_packed._plan["pieces"]) == 1 and len(opt_apart._plan["pieces"]) == 4
    state = [opt_packed.velocity] if isinstance(opt_packed, SGD) else [opt_packed.m, opt_packed.v]
    rows = [(packed[k], grads[k], *(s[k] for s in state)) for k in packed]
    assert len(_runs(rows)) == 1 and len(_runs(rows[::-1])) == 4  # out of order: apart


def test_autoencoder_keeps_its_weights_end_to_end():
    """After construction, a deep copy and a pickle round trip, the weights (and gradients)
    lie in one buffer in the order of ``params``."""
    import copy
    import pickle

    from dec_np.autoencoder import StackedAutoencoder
    from dec_np.backend import joined

    sae = StackedAutoencoder((12, 8, 4), random_state=0)
    for model in (sae, copy.deepcopy(sae), pickle.loads(pickle.dumps(sae))):
        assert joined(list(model.params.values())).size == 2 * (12 * 8 + 8 * 4) + 8 + 4 + 12 + 8
        assert joined(list(model.grads.values())) is not None
        for k, v in model.params.items():
            np.testing.assert_array_equal(asnumpy(v), asnumpy(sae.params[k]))

import numpy as np
import pytest

from dec_np.gradcheck import check_layer
from dec_np.layers import Dense, Dropout, ReLU, Sequential


def test_dense_known_forward(xp):
    layer = Dense(2, 3, dtype=np.float64, xp=xp)
    layer.params["W"][...] = xp.asarray([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    layer.params["b"][...] = xp.asarray([0.5, -0.5, 1.0])
    out = layer.forward(xp.asarray([[1.0, 1.0], [2.0, 0.0]]))
    np.testing.assert_allclose(xp.asnumpy(out) if xp is not np else out,
                               [[5.5, 6.5, 10.0], [2.5, 3.5, 7.0]])


def test_dense_init_statistics():
    W = Dense(500, 400, random_state=0).params["W"]
    assert W.dtype == np.float32 and W.shape == (500, 400)
    assert abs(W.std() - 0.01) < 2e-4 and abs(W.mean()) < 2e-4
    assert np.all(Dense(5, 4).params["b"] == 0)


def test_dense_gradients(xp):
    layer = Dense(4, 3, init_std=0.5, dtype=np.float64, xp=xp, random_state=1)
    x = xp.asarray(np.random.default_rng(0).standard_normal((5, 4)))
    errors = check_layer(layer, x)
    assert set(errors) == {"x", "W", "b"}
    assert max(errors.values()) < 1e-6, errors


def test_relu_known_values_and_gradient(xp):
    layer = ReLU()
    out = layer.forward(xp.asarray([[-1.0, 0.0, 2.0]]))
    assert out.tolist() == [[0.0, 0.0, 2.0]]
    assert layer.backward(xp.asarray([[3.0, 3.0, 3.0]])).tolist() == [[0.0, 0.0, 3.0]]
    x = xp.asarray(np.random.default_rng(1).standard_normal((6, 5)))
    x[xp.abs(x) < 1e-3] = 0.5  # keep away from the kink
    assert check_layer(ReLU(), x)["x"] < 1e-6


def test_dropout_statistics_and_identity(xp):
    layer = Dropout(0.2, random_state=0)
    x = xp.ones((200, 500), dtype=xp.float32)
    out = layer.forward(x, train=True)
    assert out.dtype == xp.float32
    kept = float((out > 0).mean())
    assert abs(kept - 0.8) < 0.01
    assert float(out.mean()) == pytest.approx(1.0, abs=0.02)  # inverted scaling
    assert set(np.unique(np.asarray(out.tolist())).tolist()) <= {0.0, 1.25}
    dx = layer.backward(xp.ones_like(x))
    assert bool(((dx > 0) == (out > 0)).all())  # backward reuses the forward mask
    assert layer.forward(x, train=False) is x


def test_dropout_gradient_with_fixed_mask(xp):
    layer = Dropout(0.3, random_state=2)
    layer.freeze_mask = True
    x = xp.asarray(np.random.default_rng(3).standard_normal((4, 7)))
    assert check_layer(layer, x)["x"] < 1e-6


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
def test_dropout_rejects_bad_rate(p):
    with pytest.raises(ValueError, match="p_drop"):
        Dropout(p)


def test_sequential_gradients(xp):
    rng = np.random.default_rng(4)
    net = Sequential(Dense(5, 6, 0.5, np.float64, xp, rng), ReLU(), Dense(6, 3, 0.5, np.float64, xp, rng))
    x = xp.asarray(rng.standard_normal((4, 5)))
    assert set(net.params) == {"0.W", "0.b", "2.W", "2.b"} == set(net.grads)
    errors = check_layer(net, x)
    assert max(errors.values()) < 1e-6, errors

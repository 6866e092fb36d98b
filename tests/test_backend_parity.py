"""NumPy and CuPy give the same numbers: weights, layer passes, the SAE, DEC's math, training.

Skipped without CuPy and a visible GPU.  float32 on both sides, so agreement is to about
1e-5 relative (the BLAS libraries sum in different orders).
"""
import numpy as np
import pytest

from dec_np.autoencoder import StackedAutoencoder
from dec_np.backend import asnumpy, gpu_available
from dec_np.dec_math import kl_divergence, kl_gradients, soft_assignment, target_distribution
from dec_np.layers import Dense, ReLU, Sequential
from dec_np.losses import mse

pytestmark = pytest.mark.gpu
if not gpu_available():
    pytest.skip("needs CuPy and a visible GPU", allow_module_level=True)
import cupy  # noqa: E402

RTOL, ATOL = 1e-5, 1e-6


def close(a, b, rtol=RTOL, atol=ATOL):
    assert isinstance(b, cupy.ndarray) and not isinstance(a, cupy.ndarray)
    np.testing.assert_allclose(asnumpy(b), a, rtol=rtol, atol=atol)


def test_same_seed_same_initial_weights():
    a = StackedAutoencoder((20, 8, 3), backend="numpy", random_state=3)
    b = StackedAutoencoder((20, 8, 3), backend="cupy", random_state=3)
    for k, v in a.params.items():
        np.testing.assert_array_equal(asnumpy(b.params[k]), v)


def test_dense_relu_sequential_forward_backward():
    rng = np.random.default_rng(0)
    x, dout = rng.standard_normal((16, 12), dtype=np.float32), rng.standard_normal((16, 5), dtype=np.float32)
    nets = [Sequential(Dense(12, 9, 0.3, xp=xp, random_state=1), ReLU(),
                       Dense(9, 5, 0.3, xp=xp, random_state=2)) for xp in (np, cupy)]
    out_n, out_c = nets[0].forward(x), nets[1].forward(cupy.asarray(x))
    close(out_n, out_c)
    close(nets[0].backward(dout), nets[1].backward(cupy.asarray(dout)))
    for k, g in nets[0].grads.items():
        close(g, nets[1].grads[k], atol=1e-5)


def test_sae_reconstruction_and_gradients():
    X = np.random.default_rng(1).random((32, 20), dtype=np.float32)
    saes = [StackedAutoencoder((20, 16, 8, 3), backend=b, random_state=0) for b in ("numpy", "cupy")]
    nets = [Sequential(*s.encoder().layers, *s.decoder().layers) for s in saes]
    outs = [nets[0].forward(X), nets[1].forward(cupy.asarray(X))]
    close(outs[0], outs[1])
    (ln, dn), (lc, dc) = mse(outs[0], X), mse(outs[1], cupy.asarray(X))
    assert float(lc) == pytest.approx(float(ln), rel=1e-5)
    nets[0].backward(dn, need_dx=False)
    nets[1].backward(dc, need_dx=False)
    for k, g in nets[0].grads.items():
        close(g, nets[1].grads[k], rtol=1e-4, atol=1e-7)


def test_dec_math():
    rng = np.random.default_rng(2)
    z, mu = rng.standard_normal((50, 4), dtype=np.float32), rng.standard_normal((6, 4), dtype=np.float32)
    zc, muc = cupy.asarray(z), cupy.asarray(mu)
    q, qc = soft_assignment(z, mu), soft_assignment(zc, muc)
    p, pc = target_distribution(q), target_distribution(qc)
    close(q, qc)
    close(p, pc)
    assert kl_divergence(pc, qc) == pytest.approx(kl_divergence(p, q), rel=1e-4)
    for a, b in zip(kl_gradients(z, mu, p, q), kl_gradients(zc, muc, pc, qc)):
        close(a, b, atol=1e-5)


def test_short_finetune_gives_close_losses():
    X = np.random.default_rng(3).random((256, 30), dtype=np.float32)
    hist = []
    for b in ("numpy", "cupy"):
        sae = StackedAutoencoder((30, 20, 5), p_drop=0.0, backend=b, random_state=0)
        hist.append(sae.finetune(X, epochs=3, batch_size=32, lr=0.1))
    np.testing.assert_allclose(hist[1], hist[0], rtol=1e-4)

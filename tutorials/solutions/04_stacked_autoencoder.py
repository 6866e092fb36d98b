"""Reference solutions of tutorial 04 (greedy layer-wise pretraining, ACC and NMI)."""
import itertools

import numpy as np

from dec_np.losses import mse
from dec_np.optim import SGD


def clean_input(sae, i, H):
    """The clean (no dropout) input of depth i + 1: ReLU(H @ W_i + b_i)."""
    enc = sae.encoders[i].params
    return np.maximum(H @ enc["W"] + enc["b"], 0)


def pretrain_depth(sae, i, H, epochs, batch_size, lr, momentum=0.9):
    """Train the denoising pair of depth i on its clean input H; mean loss per epoch."""
    net = sae.layer_pair(i)  # draws the dropout layers' seeds from sae.rng
    layers = {"enc": sae.encoders[i], "dec": sae.decoders[i]}
    params = {f"{n}.{k}": v for n, l in layers.items() for k, v in l.params.items()}
    grads = {f"{n}.{k}": v for n, l in layers.items() for k, v in l.grads.items()}
    opt = SGD(lr, momentum)
    n = H.shape[0]
    history = []
    for _ in range(epochs):
        perm = sae.rng.permutation(n)
        total, count = 0.0, 0
        for start in range(0, n, batch_size):
            xb = H[perm[start:start + batch_size]]
            out = net.forward(xb, train=True)
            loss, dout = mse(out, xb, sae.loss_reduction)
            net.backward(dout, need_dx=False)
            opt.step(params, grads)
            total += float(loss)
            count += 1
        history.append(total / count)
    return history


def acc_from_table(table):
    """max over one-to-one maps cluster -> class of the matched count, divided by n."""
    table = np.asarray(table)
    k = max(table.shape)
    square = np.zeros((k, k), dtype=table.dtype)
    square[:table.shape[0], :table.shape[1]] = table
    best = max(sum(square[perm[j], j] for j in range(k))
               for perm in itertools.permutations(range(k)))
    return best / table.sum()


def nmi_from_table(table):
    """I(Y; C) / ((H(Y) + H(C)) / 2) from the contingency table, natural logs."""
    t = np.asarray(table, dtype=float)
    n = t.sum()
    a, b = t.sum(axis=1), t.sum(axis=0)
    nz = t > 0
    mi = np.sum(t[nz] / n * np.log(n * t[nz] / np.outer(a, b)[nz]))
    entropy = lambda c: -np.sum(c[c > 0] / n * np.log(c[c > 0] / n))
    return mi / (0.5 * (entropy(a) + entropy(b)))

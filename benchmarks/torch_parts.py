"""The pieces of a fine-tuning step in dec_np and in PyTorch on the CPU, side by side.

``benchmarks/torch_recipe.py`` times whole steps; this takes a fine-tuning step of the
d-500-500-2000-10 autoencoder (batch 256, Adam) apart, at the step's own shapes:

* forward products: each of the eight dense layers' ``x @ W + b``;
* backward products: each layer's ``dW = x^T dout``, ``db`` and ``dx = dout W^T``;
* Adam's update of the 3.33 M weights;
* ReLU: forward and backward over the six hidden activations (the embedding is linear).

dec_np runs its own layers and optimiser on two host threads (``n_jobs=2``);
PyTorch runs ``torch.mm`` / ``addmm``, ``torch.optim.Adam`` (its default multi-tensor update)
and ``torch.relu`` / ``threshold_backward`` on two threads, without autograd.  The two
alternate, round after round, in one process (each piece warmed up by 20 calls in every
round); milliseconds per step, best of the rounds.

    python benchmarks/torch_parts.py [--rounds 5] [--calls 30]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dec_np.autoencoder import StackedAutoencoder  # noqa: E402
from dec_np.layers import ReLU  # noqa: E402
from dec_np.optim import Adam  # noqa: E402
from dec_np.threads import host_threads  # noqa: E402
from split_products import per_call  # noqa: E402
from torch_recipe import DIMS  # noqa: E402

BATCH = 256
#: the widths of the fine-tuning network's hidden ReLUs (encoder, then decoder)
HIDDEN = DIMS[1:-1] + DIMS[-2:0:-1]


def dec_np_parts(rng):
    """Closures for the four pieces in dec_np."""
    sae = StackedAutoencoder(DIMS, random_state=0)
    layers = sae.encoders + sae.decoders[::-1]  # the fine-tuning network's order
    xs = [rng.random((BATCH, layer.params["W"].shape[0]), dtype=np.float32) for layer in layers]
    douts = [rng.random((BATCH, layer.params["W"].shape[1]), dtype=np.float32) for layer in layers]
    for g in sae.grads.values():
        g[...] = rng.standard_normal(g.shape).astype(np.float32) * 1e-3
    adam = Adam(1e-4)
    hidden = [rng.standard_normal((BATCH, w), dtype=np.float32) for w in HIDDEN]
    relus = [ReLU() for _ in hidden]

    def forward():
        for layer, x in zip(layers, xs):
            layer.forward(x)

    def backward():
        for layer, x, dout in zip(layers, xs, douts):
            layer.cache = x
            layer.backward(dout)

    def update():
        adam.step(sae.params, sae.grads)

    def relu():
        for r, h in zip(relus, hidden):
            r.backward(r.forward(h))

    return {"forward products": forward, "backward products": backward,
            "Adam's update": update, "ReLU, forward and backward": relu}


def torch_parts(rng):
    """The same pieces in PyTorch."""
    import torch

    pairs = list(zip(DIMS[:-1], DIMS[1:]))
    shapes = pairs + [(b, a) for a, b in pairs[::-1]]
    Ws = [torch.as_tensor(rng.standard_normal(s).astype(np.float32) * 0.01) for s in shapes]
    bs = [torch.zeros(s[1]) for s in shapes]
    xs = [torch.as_tensor(rng.random((BATCH, s[0]), dtype=np.float32)) for s in shapes]
    douts = [torch.as_tensor(rng.random((BATCH, s[1]), dtype=np.float32)) for s in shapes]
    params = [torch.nn.Parameter(t.clone()) for t in Ws + bs]
    for p in params:
        p.grad = torch.as_tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32) * 1e-3)
    adam = torch.optim.Adam(params, lr=1e-4)
    hidden = [torch.as_tensor(rng.standard_normal((BATCH, w), dtype=np.float32)) for w in HIDDEN]

    def forward():
        for W, b, x in zip(Ws, bs, xs):
            torch.addmm(b, x, W)

    def backward():
        for W, x, dout in zip(Ws, xs, douts):
            x.t().mm(dout)
            dout.sum(0)
            dout.mm(W.t())

    def update():
        adam.step()

    def relu():
        for h in hidden:
            out = torch.relu(h)
            torch.ops.aten.threshold_backward(out, out, 0.0)

    return {"forward products": forward, "backward products": backward,
            "Adam's update": update, "ReLU, forward and backward": relu}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--calls", type=int, default=30, help="calls of each piece per round")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    programs = {"dec_np": dec_np_parts(rng), "PyTorch": torch_parts(rng)}
    best: dict = {}
    with host_threads(2):
        for _ in range(args.rounds):
            for prog, parts in programs.items():
                with torch.no_grad():
                    for piece, fn in parts.items():
                        ms = per_call(fn, args.calls, rounds=1)
                        best[prog, piece] = min(best.get((prog, piece), np.inf), ms)
    print(f"ms per fine-tuning step (batch {BATCH}), best of {args.rounds} rounds of "
          f"{args.calls}; dec_np: host threads 2; PyTorch {torch.__version__}: 2 threads")
    print("| piece | dec_np | PyTorch | ratio |")
    print("|---|---|---|---|")
    for piece in programs["dec_np"]:
        a, b = best["dec_np", piece], best["PyTorch", piece]
        print(f"| {piece} | {a:.2f} | {b:.2f} | {a / b:.2f} |")
    a = sum(best["dec_np", p] for p in programs["dec_np"])
    b = sum(best["PyTorch", p] for p in programs["dec_np"])
    print(f"| all four | {a:.2f} | {b:.2f} | {a / b:.2f} |")


if __name__ == "__main__":
    main()

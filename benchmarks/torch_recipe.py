"""The default recipe's three kinds of step in dec_np and in PyTorch on the CPU, side by side.

One process times, in turn and repeatedly (so that a drifting load hits every program
alike), the same steps with the same shapes in dec_np (with two host threads, ``n_jobs=2``,
and with BLAS's own threads, the default) and in PyTorch (autograd, torch.optim):

* layer-wise: one step of each depth's denoising pair of d-500-500-2000-10 (20% dropout on
  its input, batch 64, SGD with momentum 0.9), on inputs encoded beforehand;
* fine-tuning: one step of the whole autoencoder on randomly shifted 28 x 28 images (batch
  256, Adam);
* clustering: one DEC step (the encoder forward and back, q, the KL gradients, SGD with
  momentum on theta and mu; batch 256, a fixed target P).

It prints milliseconds per step (the best of the rounds) and each program's ratio to
PyTorch's time.  PyTorch is not a dependency: ``pip install torch`` (CPU build) first.

    python benchmarks/torch_recipe.py --threads 2 --steps 40 --rounds 3 [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dec_np.augment import shifter  # noqa: E402
from dec_np.autoencoder import StackedAutoencoder  # noqa: E402
from dec_np.dec_math import kl_gradients, soft_assignment  # noqa: E402
from dec_np.optim import SGD  # noqa: E402
from dec_np.threads import host_threads  # noqa: E402
from dec_np.utils import BatchStream  # noqa: E402

DIMS = (784, 500, 500, 2000, 10)
K = 10


def dec_np_steps(X, n_jobs):
    """Closures running ``steps`` steps of each kind in dec_np under ``host_threads(n_jobs)``."""
    sae = StackedAutoencoder(DIMS, p_drop=0.2, init_std=0.01, loss_reduction="mean",
                             random_state=0)
    inputs = [X]
    for i in range(sae.n_layers - 1):  # each depth's clean input, as the stage computes it
        inputs.append(np.maximum(inputs[-1] @ sae.encoders[i].params["W"], 0))
    shift = shifter((28, 28), 0.1)
    p = np.random.default_rng(1).dirichlet(np.ones(K), size=X.shape[0]).astype(np.float32)
    mu = np.random.default_rng(2).standard_normal((K, DIMS[-1])).astype(np.float32)

    def layerwise(steps):
        with host_threads(n_jobs):
            for i, H in enumerate(inputs):
                net = sae.layer_pair(i)
                named = {f"enc{i}": sae.encoders[i], f"dec{i}": sae.decoders[i]}
                sae._train(net, named, H, None, steps, 64, 0.01, 0.9, None, 0.1, 0.0, False,
                           f"layer {i}", "sgd")

    def finetune(steps):
        with host_threads(n_jobs):
            sae.finetune(X, iterations=steps, batch_size=256, lr=1e-4, optimizer="adam",
                         augment=shift)

    def dec(steps):
        with host_threads(n_jobs):
            encoder = sae.encoder()
            params = {k: v for k, v in sae.params.items() if k.startswith("enc")}
            grads = {k: v for k, v in sae.grads.items() if k.startswith("enc")}
            params["mu"] = mu
            opt = SGD(0.001, 0.9)
            stream = BatchStream(X.shape[0], 256, np.random.default_rng(0))
            for _ in range(steps):
                _, idx = next(stream)
                zb = encoder.forward(X[idx], train=True)
                qb = soft_assignment(zb, mu, 1.0)
                dz, dmu = kl_gradients(zb, mu, p[idx], qb, 1.0)
                inv = np.float32(1.0 / zb.shape[0])
                encoder.backward(dz * inv, need_dx=False)
                grads["mu"] = dmu * inv
                opt.step(params, grads)

    return {"layer-wise": layerwise, "fine-tuning": finetune, "clustering": dec}


def torch_steps(X):
    """The same steps in PyTorch (float32 on the CPU)."""
    import torch

    gen = torch.Generator().manual_seed(0)
    pairs = list(zip(DIMS[:-1], DIMS[1:]))

    def param(*shape, std=0.01):
        return (torch.randn(*shape, generator=gen) * std).requires_grad_()

    enc = [(param(a, b), torch.zeros(b, requires_grad=True)) for a, b in pairs]
    dec = [(param(b, a), torch.zeros(a, requires_grad=True)) for a, b in pairs]
    Xt = torch.as_tensor(X)
    with torch.no_grad():
        inputs = [Xt]
        for W, b in enc[:-1]:
            inputs.append(torch.relu(inputs[-1] @ W + b))
    p = torch.as_tensor(np.random.default_rng(1).dirichlet(np.ones(K), size=X.shape[0])
                        .astype(np.float32))
    mu = torch.as_tensor(np.random.default_rng(2).standard_normal((K, DIMS[-1]))
                         .astype(np.float32)).requires_grad_()
    n = X.shape[0]

    def run(layers, h, last_linear=True):
        for j, (W, b) in enumerate(layers):
            h = h @ W + b
            if j < len(layers) - 1 or not last_linear:
                h = torch.relu(h)
        return h

    def shifted(xb, s=3):
        m = xb.shape[0]
        off = torch.randint(-s, s + 1, (m, 2), generator=gen)
        padded = torch.zeros(m, 28 + 2 * s, 28 + 2 * s)
        padded[:, s:s + 28, s:s + 28] = xb.reshape(m, 28, 28)
        rows = (s - off[:, :1] + torch.arange(28)[None, :])[:, :, None]
        cols = (s - off[:, 1:] + torch.arange(28)[None, :])[:, None, :]
        return padded[torch.arange(m)[:, None, None], rows, cols].reshape(m, 784)

    def layerwise(steps):
        for i, H in enumerate(inputs):
            (We, be), (Wd, bd) = enc[i], dec[i]
            opt = torch.optim.SGD([We, be, Wd, bd], lr=0.01, momentum=0.9)
            for _ in range(steps):
                xb = H[torch.randint(0, n, (64,), generator=gen)]
                h = torch.nn.functional.dropout(xb, 0.2, training=True)
                out = torch.relu(h @ We + be) if i < len(enc) - 1 else h @ We + be
                out = out @ Wd + bd
                if i > 0:
                    out = torch.relu(out)
                loss = 0.5 * ((out - xb) ** 2).mean()
                opt.zero_grad(set_to_none=False)
                loss.backward()
                opt.step()

    adam = torch.optim.Adam([t for wb in enc + dec[::-1] for t in wb], lr=1e-4)

    def finetune(steps):
        for _ in range(steps):
            xb = shifted(Xt[torch.randint(0, n, (256,), generator=gen)])
            out = run(enc + dec[::-1], xb)
            loss = 0.5 * ((out - xb) ** 2).mean()
            adam.zero_grad(set_to_none=False)
            loss.backward()
            adam.step()

    sgd = torch.optim.SGD([t for wb in enc for t in wb] + [mu], lr=0.001, momentum=0.9)

    def clustering(steps):
        for _ in range(steps):
            idx = torch.randint(0, n, (256,), generator=gen)
            z = run(enc, Xt[idx])
            d2 = ((z[:, None, :] - mu[None, :, :]) ** 2).sum(-1)
            q = 1.0 / (1.0 + d2)
            q = q / q.sum(1, keepdim=True)
            pb = p[idx]
            loss = (pb * (pb.log() - q.log())).sum() / 256
            sgd.zero_grad(set_to_none=False)
            loss.backward()
            sgd.step()

    return {"layer-wise": layerwise, "fine-tuning": finetune, "clustering": clustering}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10000, help="rows of random binary images")
    ap.add_argument("--steps", type=int, default=40, help="steps of each kind per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2, help="PyTorch's intra-op threads")
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    X = (np.random.default_rng(0).random((args.n, 784)) < 0.2).astype(np.float32)
    programs = {"dec_np (n_jobs=2)": dec_np_steps(X, 2),
                "dec_np (default: BLAS's threads)": dec_np_steps(X, "blas")}
    try:
        import torch
        torch.set_num_threads(args.threads)
        programs[f"PyTorch {torch.__version__} CPU"] = torch_steps(X)
    except ImportError:
        print("PyTorch is not installed: its column is skipped", file=sys.stderr)
    kinds = ["layer-wise", "fine-tuning", "clustering"]
    for fns in programs.values():  # warm-up: thread pools, first allocations
        for kind in kinds:
            fns[kind](2)
    best = {}
    for _ in range(args.rounds):
        for kind in kinds:
            for name, fns in programs.items():
                t = time.perf_counter()
                fns[kind](args.steps)
                per = 1e3 * (time.perf_counter() - t) / (args.steps * (4 if kind == "layer-wise" else 1))
                best[(kind, name)] = min(best.get((kind, name), per), per)
    ref = next((name for name in programs if name.startswith("PyTorch")), None)
    print(f"ms per step, best of {args.rounds} rounds of {args.steps} steps "
          f"({os.cpu_count()} cores; PyTorch threads {args.threads}); ratio to PyTorch")
    print("| step | " + " | ".join(programs) + " |")
    print("|---|" + "---|" * len(programs))
    rows = []
    for kind in kinds:
        cells = []
        for name in programs:
            ms = best[(kind, name)]
            ratio = ms / best[(kind, ref)] if ref else None
            cells.append(f"{ms:.2f}" + (f" ({ratio:.2f}x)" if ratio else ""))
            rows.append({"step": kind, "program": name, "ms": ms, "ratio_torch": ratio})
        print(f"| {kind} | " + " | ".join(cells) + " |")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"n": args.n, "steps": args.steps, "rounds": args.rounds, "rows": rows}, fh,
                      indent=1)


if __name__ == "__main__":
    main()

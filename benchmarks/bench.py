"""Side-by-side timings of dec_np (NumPy, CuPy) and the same network in PyTorch.

Times (a) one epoch of SAE fine-tuning with SGD and momentum (``finetune``) and with Adam
(``adam``, the default's optimiser), (b) one epoch of layer-wise pretraining (every depth),
(c) one DEC epoch with its full-data target updates, (d) k-means with 20 restarts, all in one process on the same data, and prints seconds, the ratio to PyTorch
on the same device and the share of the float32 matmul floor reached.  PyTorch and CuPy
are optional.  ``--scaling`` times the DEC epoch for several N, with peak memory.

    python benchmarks/bench.py --n 10000 --repeat 3
    python benchmarks/bench.py --scaling --json scaling.json
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from dec_np.autoencoder import StackedAutoencoder  # noqa: E402
from dec_np.backend import get_backend, gpu_available  # noqa: E402
from dec_np.dec import DEC, clustering_settings  # noqa: E402
from dec_np.kmeans import kmeans  # noqa: E402

DIMS = (784, 500, 500, 2000, 10)
K = 10
torch = None  # imported in main() only when asked for: PyTorch is never a dependency


def _import_torch(backends):
    global torch
    if any(b.startswith("torch") for b in backends.split(",")):
        try:
            import torch as _t
            torch = _t
        except ImportError:
            print("PyTorch is not installed: its columns are skipped", file=sys.stderr)


# -- FLOP counts and the matmul floor ---------------------------------------------------------
def gemms(part, n, batch, dims=DIMS, update_interval=140):
    """The matrix products of one epoch of ``part``: list of (m, k, n_cols, layout, count).

    layout "nn": x @ W (forward), "tn": x.T @ dout (dW), "nt": dout @ W.T (dx).
    """
    it = -(-n // batch)
    pairs = list(zip(dims[:-1], dims[1:]))
    net = pairs + [(b, a) for a, b in reversed(pairs)]
    out = []
    if part in ("finetune", "adam"):
        for j, (a, b) in enumerate(net):
            out += [(batch, a, b, "nn", it), (a, batch, b, "tn", it)]
            out += [(batch, b, a, "nt", it)] if j else []
    elif part == "layerwise":
        for i, (a, b) in enumerate(pairs):
            for j, (u, v) in enumerate([(a, b), (b, a)]):
                out += [(batch, u, v, "nn", it), (u, batch, v, "tn", it)]
                out += [(batch, v, u, "nt", it)] if j else []
            if i < len(pairs) - 1:  # encode the data for the next depth
                out.append((4096, a, b, "nn", n / 4096))
    elif part == "dec":
        steps = -(-it // update_interval) * update_interval
        for j, (a, b) in enumerate(pairs):
            out += [(batch, a, b, "nn", steps), (a, batch, b, "tn", steps)]
            out += [(batch, b, a, "nt", steps)] if j else []
            out.append((4096, a, b, "nn", (steps // update_interval + 1) * n / 4096))
    return out


def flops(part, n, batch):
    return sum(2.0 * m * k * c * cnt for m, k, c, _, cnt in gemms(part, n, batch))


def _sync(xp):
    if xp is not np:
        xp.cuda.Device().synchronize()


def matmul_rate(xp, size=4096, reps=5):
    """float32 GFLOP/s of one large square product (best of ``reps``)."""
    a = xp.asarray(np.random.default_rng(0).random((size, size), dtype=np.float32))
    c = xp.empty_like(a)
    best = np.inf
    for _ in range(reps + 1):
        _sync(xp)
        t = time.perf_counter()
        xp.matmul(a, a, out=c)
        _sync(xp)
        best = min(best, time.perf_counter() - t)
    return 2.0 * size ** 3 / best / 1e9


def shape_floor(xp, part, n, batch, reps=20):
    """Seconds one epoch's products take at their actual shapes and layouts (best of reps)."""
    rng = np.random.default_rng(0)
    total, cache = 0.0, {}
    for m, k, c, lay, cnt in gemms(part, n, batch):
        key = (m, k, c, lay)
        if key not in cache:
            A = xp.asarray(rng.random((k, m) if lay == "tn" else (m, k), dtype=np.float32))
            B = xp.asarray(rng.random((c, k) if lay == "nt" else (k, c), dtype=np.float32))
            A, B = (A.T if lay == "tn" else A), (B.T if lay == "nt" else B)
            out = xp.empty((m, c), dtype=xp.float32)
            best = np.inf
            for _ in range(reps):
                _sync(xp)
                t = time.perf_counter()
                xp.matmul(A, B, out=out)
                _sync(xp)
                best = min(best, time.perf_counter() - t)
            cache[key] = best
        total += cache[key] * cnt
    return total


# -- dec_np --------------------------------------------------------------------------------
def make_data(xp, n, d=DIMS[0], seed=0):
    if xp is np:
        return np.random.default_rng(seed).random((n, d), dtype=np.float32)
    return xp.random.default_rng(seed).random((n, d), dtype=xp.float32)


def blobs(xp, n, seed=0):
    """n points in K well separated Gaussian blobs in 10-D (the k-means input)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((K, K)).astype(np.float32) * 5
    z = centres[rng.integers(K, size=n)] + rng.standard_normal((n, K)).astype(np.float32)
    return xp.asarray(z)


def npy_runner(xp, X, batch):
    sae = StackedAutoencoder(DIMS, backend="cupy" if xp is not np else "numpy", random_state=0)
    n = X.shape[0]

    def finetune():
        sae.finetune(X, epochs=1, batch_size=batch, lr=0.003)

    def adam():
        sae.finetune(X, epochs=1, batch_size=batch, lr=0.0001, optimizer="adam")

    def layerwise():
        sae.pretrain_layerwise(X, epochs=1, batch_size=batch, lr=0.003)

    def dec():
        rng = np.random.default_rng(0)
        z = sae.encode(X)
        mu = z[xp.asarray(rng.choice(n, K, replace=False))].copy()
        steps = -(-(-(-n // batch)) // 140) * 140
        est = DEC(K, autoencoder=sae, batch_size=batch, lr=0.01, update_interval=140, tol=0.0,
                  max_iter=steps, backend="cupy" if xp is not np else "numpy")
        est.autoencoder_ = sae
        est.augment_, est.max_iter_ = clustering_settings(est)  # what fit() resolves first
        est._run(X, z, mu, None, rng, xp)  # the clustering phase alone, without k-means

    def km():
        kmeans(blobs(xp, n), K, n_init=20, random_state=0)

    return {"finetune": finetune, "adam": adam, "layerwise": layerwise, "dec": dec, "kmeans": km}


# -- PyTorch reference ---------------------------------------------------------------------------
def torch_runner(device, X, batch):
    """The same network with torch.matmul layers, autograd and torch.optim (SGD with
    momentum 0.9, or Adam)."""
    X = torch.as_tensor(X if isinstance(X, np.ndarray) else X.get(), device=device)
    n = X.shape[0]
    gen = torch.Generator().manual_seed(0)
    pairs = list(zip(DIMS[:-1], DIMS[1:]))
    enc = [(torch.randn(a, b, generator=gen) * 0.01, torch.zeros(b)) for a, b in pairs]
    dec = [(torch.randn(b, a, generator=gen) * 0.01, torch.zeros(a)) for a, b in reversed(pairs)]
    enc = [(W.to(device).requires_grad_(), b.to(device).requires_grad_()) for W, b in enc]
    dec = [(W.to(device).requires_grad_(), b.to(device).requires_grad_()) for W, b in dec]

    def run(layers, h):
        for j, (W, b) in enumerate(layers):
            h = torch.matmul(h, W) + b
            h = torch.relu(h) if j < len(layers) - 1 else h
        return h

    def sync():
        if device != "cpu":
            torch.cuda.synchronize()

    def finetune(adam=False):
        params = [t for wb in enc + dec for t in wb]
        opt = (torch.optim.Adam(params, lr=0.0001) if adam  # foreach: its default on CUDA
               else torch.optim.SGD(params, lr=0.003, momentum=0.9))
        perm = torch.randperm(n, device=device)
        for s in range(0, n, batch):
            xb = X[perm[s:s + batch]]
            loss = 0.5 * ((run(enc + dec, xb) - xb) ** 2).sum() / xb.shape[0]
            opt.zero_grad(set_to_none=False)
            loss.backward()
            opt.step()
        sync()

    def soft(z, mu):
        d2 = (z * z).sum(1, keepdim=True) - 2 * z @ mu.T + (mu * mu).sum(1)
        q = 1.0 / (1.0 + d2.clamp_min(0))
        return q / q.sum(1, keepdim=True)

    def dec_epoch():
        with torch.no_grad():
            z = torch.cat([run(enc, X[s:s + 4096]) for s in range(0, n, 4096)])
            mu = z[torch.randperm(n, device=device)[:K]].clone().requires_grad_()
        params = [t for wb in enc for t in wb] + [mu]
        opt = torch.optim.SGD(params, lr=0.01, momentum=0.9)
        steps = -(-(-(-n // batch)) // 140) * 140
        perm, pos = torch.randperm(n, device=device), 0
        for it in range(steps + 1):
            if it % 140 == 0:
                with torch.no_grad():
                    z = torch.cat([run(enc, X[s:s + 4096]) for s in range(0, n, 4096)])
                    q = soft(z, mu)
                    w = q * q / q.sum(0)
                    p = w / w.sum(1, keepdim=True)
                    q.argmax(1).cpu()  # the label check
                if it == steps:
                    break
            if pos >= n:
                perm, pos = torch.randperm(n, device=device), 0
            idx = perm[pos:pos + batch]
            pos += batch
            qb, pb = soft(run(enc, X[idx]), mu), p[idx]
            loss = (pb * (pb.clamp_min(1e-30).log() - qb.log())).sum() / idx.shape[0]
            opt.zero_grad(set_to_none=False)
            loss.backward()
            opt.step()
        sync()

    return {"finetune": finetune, "adam": lambda: finetune(adam=True), "dec": dec_epoch}


# -- driver --------------------------------------------------------------------------------------
def implementations(backends, X_host, batch):
    impls = {}
    if "numpy" in backends:
        impls["dec_np numpy"] = ("cpu", npy_runner(np, X_host, batch))
    if "cupy" in backends and gpu_available():
        cp = get_backend("cupy")
        impls["dec_np cupy"] = ("gpu", npy_runner(cp, cp.asarray(X_host), batch))
    if torch is not None and {"torch", "torch-cpu"} & set(backends):
        impls["torch cpu"] = ("cpu", torch_runner("cpu", X_host, batch))
    if torch is not None and {"torch", "torch-cuda"} & set(backends) and torch.cuda.is_available():
        impls["torch cuda"] = ("gpu", torch_runner("cuda", X_host, batch))
    return impls


def main_table(args):
    X = make_data(np, args.n)
    impls = implementations(args.backend.split(","), X, args.batch)
    parts = args.parts.split(",")
    # warm-up on a small slice (kernel compilation, thread pools, first allocations), untimed
    for _, fns in implementations(args.backend.split(","), X[:2 * args.batch], args.batch).values():
        for part in parts:
            if part in fns and part != "dec":
                fns[part]()
    times = {}
    for _ in range(args.repeat):  # interleaved, so drifting load hits every implementation alike
        for part in parts:
            for name, (_, fns) in impls.items():
                if part in fns:
                    t = time.perf_counter()
                    fns[part]()
                    times.setdefault((part, name), []).append(time.perf_counter() - t)
    devices = {dev for dev, _ in impls.values()}
    xps = {"cpu": np} if "cpu" in devices else {}
    if "gpu" in devices:
        xps["gpu"] = get_backend("cupy") if gpu_available() else None
    rate = {d: matmul_rate(xp) for d, xp in xps.items() if xp is not None}
    floor = {(d, p): shape_floor(xp, p, args.n, args.batch)
             for d, xp in xps.items() if xp is not None for p in parts if p != "kmeans"}
    print(f"N={args.n} batch={args.batch} repeat={args.repeat} (best of repeats) "
          f"threads={args.threads or 'default'}; "
          + ", ".join(f"{d} float32 matmul 4096^2: {r:.0f} GFLOP/s" for d, r in rate.items()))
    print(f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')} "
          f"OPENBLAS_L2_SIZE={os.environ.get('OPENBLAS_L2_SIZE')} {blas_info()}")
    print(f"{'part':10s} {'impl':14s} {'seconds':>9s} {'x torch':>8s} {'GFLOP':>7s} "
          f"{'GFLOP/s':>8s} {'of peak':>8s} {'of shape floor':>15s}")
    rows = []
    for part in parts:
        for name, (dev, _) in impls.items():
            if (part, name) not in times:
                continue
            t = min(times[(part, name)])
            ref = times.get((part, "torch " + ("cpu" if dev == "cpu" else "cuda")))
            ratio = t / min(ref) if ref else None
            f = flops(part, args.n, args.batch) if part != "kmeans" else None
            sh = floor.get((dev, part))
            row = dict(part=part, impl=name, seconds=t, all_seconds=times[(part, name)],
                       ratio_torch=ratio, gflop=f / 1e9 if f else None,
                       peak_share=f / rate[dev] / 1e9 / t if f else None,
                       shape_floor_s=sh, shape_floor_share=sh / t if sh else None)
            rows.append(row)
            fmt = lambda v, s: s.format(v) if v is not None else "-"
            print(f"{part:10s} {name:14s} {t:9.3f} {fmt(ratio, '{:8.2f}'):>8s} "
                  f"{fmt(row['gflop'], '{:7.0f}'):>7s} {fmt(f and f / t / 1e9, '{:8.1f}'):>8s} "
                  f"{fmt(row['peak_share'], '{:8.0%}'):>8s} {fmt(row['shape_floor_share'], '{:15.0%}'):>15s}")
    return {"n": args.n, "batch": args.batch, "rate_gflops": rate, "rows": rows,
            "openblas": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}}


def blas_info():
    try:
        from threadpoolctl import threadpool_info
        return "; ".join(f"{i['internal_api']} {i.get('architecture')} x{i['num_threads']}"
                         for i in threadpool_info())
    except ImportError:
        return ""


def scaling_child(args):
    """One DEC epoch at args.n on one backend, in its own process: seconds and peak memory."""
    name, dev = args.backend, None
    if name.startswith("torch"):
        dev = "cuda" if name == "torch-cuda" else "cpu"
        runner = lambda n: torch_runner(dev, make_data(np, n), args.batch)["dec"]  # noqa: E731
        xp = np
    else:
        xp = get_backend(name)
        runner = lambda n: npy_runner(xp, make_data(xp, n), args.batch)["dec"]  # noqa: E731
    runner(2 * args.batch)()  # untimed warm-up: the library's first calls, kernel compilation
    fn = runner(args.n)
    _sync(xp)
    t = time.perf_counter()
    fn()
    _sync(xp)
    out = {"backend": name, "n": args.n, "seconds": time.perf_counter() - t,
           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if xp is not np:
        out["gpu_pool_mb"] = xp.get_default_memory_pool().total_bytes() / 2**20
    elif dev == "cuda":
        out["gpu_peak_mb"] = torch.cuda.max_memory_allocated() / 2**20
    print(json.dumps(out))


def scaling(args):
    backends = []
    for b in args.backend.split(","):
        backends += ["torch-cpu", "torch-cuda"] if b == "torch" else [b]
    gpu = gpu_available()
    cuda = torch is not None and torch.cuda.is_available()
    backends = [b for b in backends if (b != "cupy" or gpu) and (b != "torch-cuda" or cuda)
                and (not b.startswith("torch") or torch is not None)]
    results = []
    for n in [10_000, 35_000, 70_000, 1_000_000] if args.n == 70_000 else [args.n]:
        for b in backends:
            if n > 70_000 and b != "cupy":
                continue  # 1M x 784 only on the GPU
            cmd = [sys.executable, __file__, "--scaling-child", "--n", str(n),
                   "--backend", b, "--batch", str(args.batch)]
            cmd += ["--threads", str(args.threads)] if args.threads else []
            res = subprocess.run(cmd, capture_output=True, text=True)
            if res.returncode:
                print(f"{b} N={n}: failed\n{res.stderr[-2000:]}")
                continue
            r = json.loads(res.stdout.strip().splitlines()[-1])
            results.append(r)
            mem = f"{r['peak_rss_mb']:8.0f} MB RSS" + (
                f", {r['gpu_pool_mb']:.0f} MB GPU pool" if "gpu_pool_mb" in r else "")
            print(f"DEC epoch  {b:10s} N={n:>9,d} {r['seconds']:8.2f} s  {mem}", flush=True)
    return {"scaling": results}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=70_000,
                    help="rows of the synthetic data (x 784); with --scaling, other than 70000 "
                         "times that N alone")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--backend", default="numpy,cupy,torch",
                    help="comma list of numpy, cupy, torch (= torch-cpu,torch-cuda), torch-cpu, "
                         "torch-cuda; those not available here are skipped")
    ap.add_argument("--parts", default="finetune,adam,layerwise,dec,kmeans")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--scaling", action="store_true", help="DEC epoch time and memory vs N")
    ap.add_argument("--scaling-child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, help="CPU threads for BLAS and PyTorch (default: theirs)")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args(argv)
    _import_torch(args.backend)
    if args.threads:
        from threadpoolctl import threadpool_limits
        threadpool_limits(args.threads)
        if torch is not None:
            torch.set_num_threads(args.threads)
    if args.scaling_child:
        return scaling_child(args)
    res = scaling(args) if args.scaling else main_table(args)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(res, fh, indent=1)


if __name__ == "__main__":
    main()

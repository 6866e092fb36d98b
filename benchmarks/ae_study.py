"""Where the seed-to-seed spread of DEC on the MNIST test set comes from (README, rounds 5, 7).

The DEC result is set mostly by the partition k-means finds in the autoencoder's z, so this
script looks at that partition from four sides, on the 10,000-image MNIST test set.  Round 5
used the schedule "b64-epochs" (40 + 100 epochs, the default then; all subcommands but
``pretrain`` use it); round 7 compared pretraining recipes with ``pretrain``:

    # round 7: today's default ("adam"), the layer-wise "b64-steps" with snapshots of the
    # fine-tuning, and changes to it (--set PART.KEY=JSON, or KEY=JSON at the top level)
    python benchmarks/ae_study.py pretrain --schedule adam --data-dir ../shared/data --seeds 0 1 2 3
    python benchmarks/ae_study.py pretrain --schedule adam --set 'input_scaling="paper"' --seeds 0 1
    python benchmarks/ae_study.py pretrain --schedule b64-steps --tag def --snapshots 50 60 70 80 90 100 \
        --cache /tmp/aes3 --data-dir ../shared/data --seeds 0 1 2 3
    python benchmarks/ae_study.py pretrain --schedule b64-steps --set model.p_drop=0.4 --seeds 0 1
    python benchmarks/ae_study.py pretrain --schedule b64-steps --set layerwise.warmup=500 \
        finetune.warmup=500 --seeds 0 1

    # k-means on the z of each saved fine-tuning snapshot, on transformed z, on 6 snapshots
    python benchmarks/ae_study.py snapshots --cache /tmp/aes3 --tag def --data-dir ../shared/data --seeds 0 1
    # dead first-layer ReLU units in the first steps, without and with a warmup
    python benchmarks/ae_study.py dead-units --data-dir ../shared/data

Round 5:

    # pretrain with the default schedule (or with dropout on the input while fine-tuning),
    # save the autoencoder, then AE + k-means and DEC (default settings) on it
    python benchmarks/ae_study.py pretrain --data-dir ../shared/data --seeds 10 11 --cache /tmp/aes
    python benchmarks/ae_study.py pretrain --variant ftdrop --data-dir ../shared/data --seeds 10 11
    # AE + k-means ACC, within/total sum of squares and silhouette every 5 fine-tuning epochs
    python benchmarks/ae_study.py curve --data-dir ../shared/data --seed 10
    # the distinct local optima of k-means on one saved autoencoder's z (40 single restarts)
    python benchmarks/ae_study.py kmeans-optima --data-dir ../shared/data --ae /tmp/aes/default_s10.npz
    # the default estimator, keeping the fine-tuning checkpoint (every 5 epochs from 50) whose
    # k-means partition has the highest silhouette
    python benchmarks/ae_study.py select --apply --data-dir ../shared/data --seeds 0 1 2
    # DEC settings on one saved autoencoder (pretraining held fixed)
    python benchmarks/ae_study.py dec --data-dir ../shared/data --ae /tmp/aes/default_s10.npz \\
        --settings '{}' '{"update_interval": 35}' '{"batch_size": 64}' '{"lr": 0.05}'

Every line printed is one JSON record.  ``--n`` takes the first n images (for a quick check).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

try:
    import dec_np  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dec_np import DEC, StackedAutoencoder  # noqa: E402
from dec_np.backend import asnumpy  # noqa: E402
from dec_np.checkpoint import load_autoencoder, save_autoencoder  # noqa: E402
from dec_np.cli import dec_input  # noqa: E402
from dec_np.datasets import load_mnist, paper_scale_factor  # noqa: E402
from dec_np.kmeans import kmeans  # noqa: E402
from dec_np.layers import Dropout, Sequential  # noqa: E402
from dec_np.metrics import cluster_accuracy  # noqa: E402
sys.path.insert(0, str(Path(__file__).resolve().parent))
from candidates import schedule as get_schedule  # noqa: E402  (a candidate's or the package's)


def emit(**row):
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}),
          flush=True)


def data(args):
    X, y = load_mnist(data_dir=args.data_dir, subset="test", download=False)
    if args.n:
        X, y = X[:args.n], y[:args.n]
    return X, y, (X * paper_scale_factor(X)).astype(np.float32)


def silhouette(z, labels, n_sub=3000, seed=0):
    """Mean silhouette of ``labels`` on a fixed random subsample of the rows of z (float64)."""
    sub = np.random.default_rng(seed).choice(len(z), min(n_sub, len(z)), replace=False)
    zs, ls = z[sub].astype(np.float64), labels[sub]
    sq = (zs ** 2).sum(1)
    D = np.sqrt(np.maximum(sq[:, None] + sq[None] - 2 * zs @ zs.T, 0))
    k = int(labels.max()) + 1
    cnt = np.bincount(ls, minlength=k)
    M = np.stack([D[:, ls == j].mean(1) if cnt[j] else np.full(len(zs), np.inf)
                  for j in range(k)], 1)
    rows = np.arange(len(zs))
    a = M[rows, ls] * cnt[ls] / np.maximum(cnt[ls] - 1, 1)  # exclude the point itself
    M[rows, ls] = np.inf
    b = M.min(1)
    return float(np.mean((b - a) / np.maximum(a, b)))


def new_sae(seed, schedule):
    return StackedAutoencoder((784, 500, 500, 2000, 10), random_state=seed, **schedule["model"])


def pretrain(args):
    X, y, _ = data(args)
    Path(args.cache).mkdir(parents=True, exist_ok=True)
    s = get_schedule(args.schedule)
    for item in args.set:  # e.g. model.p_drop=0.3 or input_scaling="paper"
        path, value = item.split("=")
        if "." in path:
            part, key = path.split(".")
            s[part][key] = json.loads(value)
        else:
            s[path] = json.loads(value)
    Xs = dec_input(X, s)  # X scaled as the schedule asks
    for seed in args.seeds:
        t0 = time.perf_counter()
        sae = new_sae(seed, s)
        if s["layerwise"] is not None:
            sae.pretrain_layerwise(Xs, **s["layerwise"])
        if args.variant == "default":
            def snapshot(epoch, loss):  # save the weights at the fine-tuning epochs asked for
                if epoch in args.snapshots:
                    save_autoencoder(sae, Path(args.cache) / f"{args.tag}_s{seed}_e{epoch}.npz")
            loss = sae.finetune(Xs, callback=snapshot, **s["finetune"])[-1]
        else:  # "ftdrop": dropout (denoising) on the input pixels during fine-tuning too
            ft = s["finetune"]
            layers = [Dropout(args.p_drop, seed + 1000)] + list(sae.encoder().layers) \
                + list(sae.decoder().layers)
            named = {f"enc{i}": e for i, e in enumerate(sae.encoders)}
            named.update({f"dec{i}": d for i, d in enumerate(sae.decoders)})
            loss = sae._train(Sequential(*layers), named, Xs, ft["epochs"], None,
                              ft["batch_size"], ft["lr"], 0.9, None, 0.1, 0.0, False,
                              "finetune")[-1]
        t_pre = time.perf_counter() - t0
        save_autoencoder(sae, Path(args.cache) / f"{args.tag}_s{seed}.npz")
        m = DEC(10, autoencoder=sae, input_scaling=s["input_scaling"], random_state=seed).fit(X, y)
        emit(variant=args.variant, schedule=args.schedule, set=args.set, seed=seed, ae_km=cluster_accuracy(y, m.init_labels_),
             dec=cluster_accuracy(y, m.labels_), ft_loss=float(loss), pretrain_s=t_pre,
             total_s=time.perf_counter() - t0)


def curve(args):
    X, y, Xs = data(args)
    s = get_schedule("b64-epochs")
    sae = new_sae(args.seed, s)
    t0 = time.perf_counter()

    def score(tag):
        z = sae.encode(Xs).astype(np.float64)
        _, labels, inertia = kmeans(z, 10, n_init=10, random_state=0)
        total = float(((z - z.mean(0)) ** 2).sum())
        emit(seed=args.seed, stage=tag, acc=cluster_accuracy(y, labels), w_over_t=inertia / total,
             silhouette=silhouette(z, labels, n_sub=2000), t=time.perf_counter() - t0)

    sae.pretrain_layerwise(Xs, **s["layerwise"])
    score("layerwise")
    ft = dict(s["finetune"], epochs=args.chunk)
    for c in range(args.chunks):  # momentum restarts at each chunk
        loss = sae.finetune(Xs, **ft)[-1]
        score(f"finetune {args.chunk * (c + 1)} epochs, loss {loss:.4f}")


def kmeans_optima(args):
    X, y, Xs = data(args)
    z = load_autoencoder(args.ae).encode(Xs).astype(np.float64)
    seen = {}
    for r in range(args.restarts):
        _, labels, inertia = kmeans(z, 10, n_init=1, random_state=r)
        key = round(float(inertia), -2)
        if key not in seen:
            seen[key] = dict(inertia=float(inertia), acc=cluster_accuracy(y, labels),
                             silhouette=silhouette(z, labels))
    for key in sorted(seen):
        emit(ae=args.ae, **seen[key])


def dec(args):
    X, y, _ = data(args)
    sae = load_autoencoder(args.ae)
    for setting in args.settings:
        kw = json.loads(setting)
        t0 = time.perf_counter()
        m = DEC(10, autoencoder=sae, schedule=get_schedule("b64-epochs"), random_state=args.seed,
                **kw).fit(X, y)  # schedule: the input scaling the round-5 autoencoders saw
        emit(ae=args.ae, setting=kw, init=cluster_accuracy(y, m.init_labels_),
             dec=cluster_accuracy(y, m.labels_), n_iter=m.n_iter_, s=time.perf_counter() - t0)


def select(args):
    """The default estimator, but keep the fine-tuning checkpoint whose k-means partition has
    the highest silhouette among those scored every ``--every`` epochs from ``--from-epoch``.

    The scoring uses its own random generator, so the training is exactly the default one
    (same seed, same thread count); only the weights DEC starts from may differ.
    """
    X, y, Xs = data(args)
    orig = StackedAutoencoder.finetune

    def finetune(sae, X_, **kw):
        best = {"sil": -np.inf}

        def score(epoch, loss):
            if epoch < args.from_epoch or (epoch - args.from_epoch) % args.every:
                return
            z = asnumpy(sae.encode(X_)).astype(np.float64)
            _, labels, _ = kmeans(z, 10, n_init=10, random_state=np.random.default_rng(0))
            sil = silhouette(z, labels)
            emit(seed=seed, epoch=epoch, loss=float(loss), acc=cluster_accuracy(y, labels),
                 silhouette=sil)
            if sil > best["sil"]:
                best.update(sil=sil, epoch=epoch,
                            weights={k: v.copy() for k, v in sae.params.items()})

        out = orig(sae, X_, callback=score, **kw)
        if args.apply and "weights" in best:
            for k, v in sae.params.items():
                v[...] = best["weights"][k]
        emit(seed=seed, selected_epoch=best.get("epoch"), applied=args.apply)
        return out

    StackedAutoencoder.finetune = finetune
    try:
        for seed in args.seeds:
            t0 = time.perf_counter()
            m = DEC(10, schedule=get_schedule("b64-epochs"), random_state=seed).fit(X, y)
            emit(seed=seed, ae_km=cluster_accuracy(y, m.init_labels_),
                 dec=cluster_accuracy(y, m.labels_), total_s=time.perf_counter() - t0)
    finally:
        StackedAutoencoder.finetune = orig


def snapshots(args):
    """AE + k-means ACC on z of the fine-tuning snapshots that ``pretrain --snapshots`` saved,
    and of partitions found in transformed or concatenated embeddings (init variants)."""
    X, y, Xs = data(args)

    def km(z, seed):
        _, labels, _ = kmeans(np.asarray(z, np.float64), 10, n_init=20, random_state=seed)
        return cluster_accuracy(y, labels)

    def unit(z):  # centred, total variance 1 per snapshot, so each weighs the same
        z = z - z.mean(0)
        return z / np.sqrt((z ** 2).sum(1).mean())

    for seed in args.seeds:
        zs = {e: load_autoencoder(Path(args.cache) / f"{args.tag}_s{seed}_e{e}.npz").encode(Xs)
              for e in args.epochs}
        zs["final"] = load_autoencoder(Path(args.cache) / f"{args.tag}_s{seed}.npz").encode(Xs)
        row = {f"epoch_{e}": km(z, seed) for e, z in zs.items()}
        zf = zs["final"]
        row["standardised"] = km((zf - zf.mean(0)) / zf.std(0), seed)
        row["l2_normalised"] = km(zf / np.linalg.norm(zf, axis=1, keepdims=True), seed)
        last = list(zs)[-6:]
        row["concat_last6"] = km(np.concatenate([unit(zs[e]) for e in last], 1), seed)
        emit(seed=seed, tag=args.tag, **row)


def dead_units(args):
    """Fraction of first-layer ReLU units no image activates, after the first steps of
    layer-wise pretraining at batch 64, lr 1.0 (the b64-steps setting), with and without
    a learning-rate warmup."""
    X, y, Xs = data(args)
    for warmup in args.warmups:
        for steps in args.steps:
            sae = StackedAutoencoder((784, 500, 500, 2000, 10), p_drop=0.2, init_std=0.01,
                                     loss_reduction="mean", random_state=args.seed)
            named = {"enc0": sae.encoders[0], "dec0": sae.decoders[0]}
            loss = sae._train(sae.layer_pair(0), named, Xs, None, steps, 64, 1.0, 0.9, None,
                              0.1, 0.0, False, "layer 0", warmup=warmup)[-1]
            e = sae.encoders[0].params
            h = np.maximum(Xs @ e["W"] + e["b"], 0)
            emit(seed=args.seed, warmup=warmup, steps=steps, loss=loss,
                 dead_fraction=float((h.max(0) <= 0).mean()))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    cmds = {}
    for name, fn in (("pretrain", pretrain), ("curve", curve), ("kmeans-optima", kmeans_optima),
                     ("dec", dec), ("select", select), ("snapshots", snapshots),
                     ("dead-units", dead_units)):
        p = sub.add_parser(name)
        p.add_argument("--data-dir")
        p.add_argument("--n", type=int, help="only the first n test images")
        cmds[name] = (p, fn)
    p = cmds["pretrain"][0]
    p.add_argument("--seeds", type=int, nargs="+", default=[10, 11])
    p.add_argument("--variant", choices=("default", "ftdrop"), default="default")
    p.add_argument("--p-drop", type=float, default=0.2)
    p.add_argument("--cache", default="/tmp/aes", help="where the autoencoders are saved")
    p.add_argument("--schedule", default="b64-epochs", help="a name in benchmarks/candidates.py or dec_np.schedules")
    p.add_argument("--set", nargs="*", default=[], metavar="PART.KEY=JSON",
                   help="change the schedule, e.g. model.p_drop=0.3 finetune.lr=1.0")
    p.add_argument("--tag", default=None, help="file name prefix (default: the variant)")
    p.add_argument("--snapshots", type=int, nargs="*", default=[],
                   help="also save the weights after these fine-tuning epochs")
    p = cmds["curve"][0]
    p.add_argument("--seed", type=int, default=10)
    p.add_argument("--chunk", type=int, default=5, help="fine-tuning epochs between scores")
    p.add_argument("--chunks", type=int, default=24)
    p = cmds["kmeans-optima"][0]
    p.add_argument("--ae", required=True)
    p.add_argument("--restarts", type=int, default=40)
    p = cmds["dec"][0]
    p.add_argument("--ae", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--settings", nargs="+", default=["{}"])
    p = cmds["select"][0]
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--from-epoch", type=int, default=50)
    p.add_argument("--every", type=int, default=5)
    p.add_argument("--apply", action="store_true",
                   help="start DEC from the selected checkpoint (else only score them)")
    p = cmds["snapshots"][0]
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--cache", default="/tmp/aes3")
    p.add_argument("--tag", default="def")
    p.add_argument("--epochs", type=int, nargs="+", default=[50, 60, 70, 80, 90, 100])
    p = cmds["dead-units"][0]
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--warmups", type=int, nargs="+", default=[0, 100, 500])
    p.add_argument("--steps", type=int, nargs="+", default=[10, 30, 100, 400, 1500])
    args = ap.parse_args(argv)
    if args.cmd == "pretrain" and args.tag is None:
        args.tag = args.variant
    cmds[args.cmd][1](args)


if __name__ == "__main__":
    main()

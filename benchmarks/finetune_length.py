"""The default's clustering result after shorter or longer Adam stages, from one pretraining per seed.

    python benchmarks/finetune_length.py --dataset mnist-test --seeds 0 1 --epochs 0 25 44 \\
        --data-dir ../shared/data --out docs/results/finetune_length_xeon.jsonl \\
        [--image-shape 28,28] [--cache DIR] [--finetune-epochs 150 --epochs 100 125 150]
    python benchmarks/finetune_length.py ... --finetune-epochs 44 --epochs 44 --decay-at 30 \\
        --gamma 0.1 [--lr 0.001]
    python benchmarks/finetune_length.py --probe-table docs/results/finetune_length_xeon.jsonl

For each seed the default schedule pretrains the autoencoder exactly as
``DEC(random_state=seed[, image_shape=...]).fit(X)`` does, and a copy of the network and of
its generator is kept at the end of each Adam epoch named by ``--epochs`` (0: the layer-wise
stage alone).  On 10,000 rows the Adam stage runs at one constant rate (0.0005) and draws
each epoch's permutation (and, on images, its shifts) as the epoch starts, so the copy taken
after epoch e is, to the bit, what an Adam stage of e epochs (``finetune.iterations`` =
e x batches per epoch, no ``min_epochs`` floor) would leave.  From each copy ``DEC`` then runs
k-means and the default clustering phase (``augment="auto"``, ``max_iter="auto"``), as
``benchmarks/clustering_arms.py`` does from a finished autoencoder.  With
``--finetune-epochs E`` the Adam stage runs E epochs at that same rate (no floor, no cap of
lr x epochs), so that copies after the default's own last epoch (75 on 10,000 rows) are
those of longer stages; the copies up to it are the default's, as before.  ``--lr`` runs the
Adam stage at another rate, ``--decay-at D --gamma G`` multiplies its rate by G every D epochs
(the optimiser's ``step_size``); the records' ``recipe`` then carries both (``ft44ep-d30g0.1``).

One JSON line per copy, in the form of ``benchmarks/recipes.py run``'s records (``recipe`` is
``ft<e>ep``; ``pretrain_s`` is the layer-wise stage and the e epochs, as timed in this run),
so that ``benchmarks/paired.py`` tables them against the default's records of the same seeds.
With ``--cache`` (the folder ``clustering_arms.py --cache`` fills) the finished autoencoder is
compared with the cached default one of the same seed, and every record says whether it is
the same to the bit (``repeats_default``), i.e. whether the copies are those of the default's
own pretraining.  BLAS and the package on one thread (``n_jobs=1``), so two runs go side by
side on two cores.
"""
from __future__ import annotations

import argparse
import copy
import datetime
import json
import pickle
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
try:
    import dec_np  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recipes import DATASETS, EXTRA, _commit, _done, _machine, emit  # noqa: E402

from dec_np import DEC, StackedAutoencoder  # noqa: E402
from dec_np.cli import dec_input, load_data  # noqa: E402
from dec_np.kmeans import kmeans  # noqa: E402
from dec_np.metrics import cluster_accuracy, nmi  # noqa: E402
from dec_np.autoencoder import stage_steps  # noqa: E402
from dec_np.schedules import get_schedule, run_schedule, stage_settings  # noqa: E402
from dec_np.threads import host_threads  # noqa: E402

HIDDEN = (500, 500, 2000, 10)


def same_weights(a, b):
    """Whether two autoencoders hold the same weights to the bit."""
    pa, pb = a.params, b.params
    return pa.keys() == pb.keys() and all(np.array_equal(np.asarray(pa[k]), np.asarray(pb[k]))
                                          for k in pa)


def pretrain_with_copies(X, seed, epochs, image_shape=None, schedule="default", hidden=HIDDEN,
                         finetune_epochs=None, on_epoch=None, lr=None, decay_at=None,
                         gamma=0.1):
    """The pretraining of ``seed``, with copies after the Adam epochs in ``epochs``.

    With ``finetune_epochs`` the Adam stage runs that many epochs at the rate the schedule
    gives these rows, with no floor and no cap of lr x epochs, so that its copies after the
    schedule's own last epoch are those of longer stages at the same rate.  Returns the
    finished autoencoder, ``{e: (copy, seconds to that point)}``, the pretraining's seconds
    and the epoch at which the schedule's own Adam stage ends (None if not at an epoch's end).
    ``on_epoch(e, sae)``, if given, sees the network after the layer-wise stage (e = 0) and
    after every Adam epoch; it must not change it or draw from its generator.  ``lr`` replaces
    the Adam stage's rate, and ``decay_at`` (epochs) multiplies it by ``gamma`` every that many
    epochs (the optimiser's ``step_size``); copies up to ``decay_at`` are then those of a
    constant rate.
    """
    images = image_shape is not None
    s = get_schedule(schedule, images)
    Xs = dec_input(X, schedule, images)
    sae = StackedAutoencoder((X.shape[1],) + tuple(hidden), random_state=seed, **s["model"])
    t0 = time.perf_counter()
    run_schedule(sae, Xs, dict(s, finetune=None), False, image_shape)  # the layer-wise stage
    copies = {}
    if 0 in epochs:
        copies[0] = (copy.deepcopy(sae), time.perf_counter() - t0)
    if on_epoch is not None:
        on_epoch(0, sae)

    kw = stage_settings(s, "finetune", Xs.shape[0])
    per_epoch = -(-Xs.shape[0] // kw["batch_size"])
    own = stage_steps(Xs.shape[0], kw["iterations"], kw["batch_size"], kw.get("min_epochs"),
                      kw.get("max_epochs"))
    own_epoch = own // per_epoch if own % per_epoch == 0 else None

    def keep(epoch, loss):
        if epoch in epochs or epoch == own_epoch:
            copies[epoch] = (copy.deepcopy(sae), time.perf_counter() - t0)
        if on_epoch is not None:
            on_epoch(epoch, sae)

    finetune = dict(s["finetune"], callback=keep)  # run_schedule passes a stage's keys on
    if finetune_epochs is not None:
        finetune.update(iterations=int(finetune_epochs) * per_epoch, min_epochs=None,
                        max_epochs=None, lr_epochs=None)
    rest = dict(s, layerwise=None, finetune=finetune)
    if lr is not None:  # this rate on any number of rows, with no cap of lr x epochs
        finetune.update(lr=float(lr), lr_epochs=None)
        rest["lr_below"] = None
    if decay_at is not None:
        finetune.update(lr_step=int(decay_at) * per_epoch, gamma=float(gamma))
    run_schedule(sae, Xs, rest, False, image_shape)
    return sae, copies, time.perf_counter() - t0, own_epoch


def probe(sae, Xs, y, k=10, n_init=20, seed=0):
    """The k-means start an embedding gives: ACC, NMI and the share of z's spread it leaves.

    k-means (``n_init`` restarts, its own generator, so the network's is untouched) on
    ``z = sae.encode(Xs)``; ``within`` is its inertia over ``sum_i |z_i - mean(z)|^2``, a
    number that does not depend on the embedding's scale.
    """
    z = np.asarray(sae.encode(Xs))  # float32, as DEC's k-means sees it
    mu, labels, inertia = kmeans(z, k, n_init=n_init, random_state=np.random.default_rng(seed))
    z64 = z.astype(np.float64)
    total = float(((z64 - z64.mean(0)) ** 2).sum())
    labels = np.asarray(labels)
    return z, {"ae_kmeans_acc": cluster_accuracy(y, labels), "ae_kmeans_nmi": nmi(y, labels),
               "inertia": float(inertia), "within": float(inertia) / total}


def probe_table(path, at):
    """Per seed, the probes' AE + k-means ACC at the epochs ``at``, and the largest change
    between two neighbouring probes from epoch 25 on."""
    rows = [json.loads(line) for line in open(path) if line.strip()]
    rows = [r for r in rows if r["recipe"] == "probe"]
    print("| data set, seed | " + " | ".join(f"epoch {e}" for e in at)
          + " | largest move between neighbouring probes from epoch 25 |")
    print("|---" * (len(at) + 2) + "|")
    for key in sorted(dict.fromkeys((r["dataset"], r["seed"]) for r in rows)):
        rs = sorted((r for r in rows if (r["dataset"], r["seed"]) == key),
                    key=lambda r: r["finetune_epochs"])
        acc = {r["finetune_epochs"]: r["ae_kmeans_acc"] for r in rs}
        late = [acc[e] for e in sorted(acc) if e >= 25]
        jump = max((abs(b - a) for a, b in zip(late, late[1:])), default=0.0)
        print(f"| {key[0]}, {key[1]} | " + " | ".join(
            f"{acc[e]:.3f}" if e in acc else "" for e in at) + f" | {jump:.3f} |")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sets = {**DATASETS, **EXTRA}
    ap.add_argument("--dataset", default="mnist-test", choices=sorted(sets))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--epochs", type=int, nargs="*", default=[0, 25, 44])
    ap.add_argument("--probe-every", type=int, default=None,
                    help="after the layer-wise stage and every N Adam epochs: k-means of z "
                         "(a 'probe' record; no clustering phase)")
    ap.add_argument("--z-dir", default=None, help="with --probe-every: save each z there")
    ap.add_argument("--image-shape", default=None, help="H,W: fit the rows as images")
    ap.add_argument("--finetune-epochs", type=int, default=None,
                    help="run the Adam stage this many epochs at its rate (copies past its end)")
    ap.add_argument("--lr", type=float, default=None, help="the Adam stage's rate instead")
    ap.add_argument("--decay-at", type=int, default=None,
                    help="multiply the Adam stage's rate by --gamma every this many epochs")
    ap.add_argument("--gamma", type=float, default=0.1)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--cache", default=None, help="clustering_arms.py's cache of default AEs")
    ap.add_argument("--out", default=None)
    ap.add_argument("--probe-table", default=None,
                    help="print the probes of a records file at the epochs --at, and stop")
    ap.add_argument("--at", type=int, nargs="+", default=[0, 25, 45, 75, 100, 125, 150])
    args = ap.parse_args(argv)
    if args.probe_table:
        return probe_table(args.probe_table, args.at)
    if args.out is None:
        ap.error("--out is required")
    shape = tuple(int(v) for v in args.image_shape.split(",")) if args.image_shape else None
    X, y, _ = load_data(args.dataset, args.data_dir, n_samples=sets[args.dataset])
    X = np.asarray(X)
    commit = _commit()
    tag = "".join([f"-lr{args.lr:g}" if args.lr is not None else "",
                   f"-d{args.decay_at}g{args.gamma:g}" if args.decay_at is not None else ""])
    for seed in args.seeds:
        todo = [e for e in args.epochs
                if not _done(args.out, f"ft{e}ep{tag}", args.dataset, seed, shape)]
        probing = args.probe_every is not None and not _done(args.out, "probe", args.dataset,
                                                              seed, shape)
        if not todo and not probing:
            continue
        Xs = dec_input(X, "default", shape is not None)
        t_start = time.perf_counter()

        def look(epoch, sae):
            if not probing or epoch % args.probe_every:
                return
            t = time.perf_counter() - t_start
            z, found = probe(sae, Xs, y)
            if args.z_dir:
                Path(args.z_dir).mkdir(parents=True, exist_ok=True)
                np.save(Path(args.z_dir) / f"z_{args.dataset}_{seed}_{epoch}.npy",
                        z.astype(np.float32))
            emit({"recipe": "probe", "dataset": args.dataset, "n": int(X.shape[0]),
                  "seed": seed, "image_shape": None if shape is None else list(shape),
                  "finetune_epochs": epoch, **found, "seconds": t,
                  "commit": commit, "date": datetime.date.today().isoformat(),
                  "machine": _machine()}, args.out)

        with host_threads(1):
            final, copies, pre_s, own = pretrain_with_copies(
                X, seed, set(todo), shape, finetune_epochs=args.finetune_epochs, on_epoch=look,
                lr=args.lr, decay_at=args.decay_at, gamma=args.gamma)
        repeats = None
        cached = Path(args.cache) / f"sae_{args.dataset}_{seed}.pkl" if args.cache else None
        if shape is None and own in copies and cached is not None and cached.exists():
            repeats = same_weights(copies[own][0], pickle.loads(cached.read_bytes())[0])
        per_epoch = -(-X.shape[0] // 256)
        for e in todo:
            sae, sae_s = copies[e]
            model = DEC(10, autoencoder=sae, image_shape=shape, random_state=seed, n_jobs=1)
            t0 = time.perf_counter()
            model.fit(X, y, generator=copy.deepcopy(sae.rng))
            dec_s = time.perf_counter() - t0
            h = model.history_
            emit({"recipe": f"ft{e}ep{tag}", "dataset": args.dataset, "n": int(X.shape[0]),
                  "seed": seed, "image_shape": None if shape is None else list(shape),
                  "finetune_epochs": e, "finetune_steps": e * per_epoch,
                  "finetune_lr": args.lr, "decay_at": args.decay_at,
                  "gamma": None if args.decay_at is None else args.gamma,
                  "ae_kmeans_acc": h["acc"][0], "dec_acc": h["acc"][-1],
                  "n_iter": model.n_iter_, "max_iter": model.max_iter_,
                  "augment": model.augment_, "pretrain_s": sae_s, "dec_s": dec_s,
                  "total_s": sae_s + dec_s, "default_pretrain_s": pre_s,
                  "repeats_default": repeats, "n_jobs": 1, "commit": commit,
                  "date": datetime.date.today().isoformat(), "machine": _machine(),
                  "history": {"iteration": h["iteration"], "acc": h["acc"]}}, args.out)


if __name__ == "__main__":
    main()

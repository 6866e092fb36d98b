"""Variants of the clustering phase from one pretrained default autoencoder per seed.

    python benchmarks/clustering_arms.py --dataset mnist-test --seeds 0 1 \\
        --arms none mask0.2 mask0.4 --data-dir ../shared/data \\
        --out docs/results/clustering_mask_xeon.jsonl [--cache DIR] [--max-iter 4200]

For each seed the default schedule pretrains the autoencoder once, on the rows read as a
plain array (no ``image_shape``), exactly as ``DEC(random_state=seed).fit(X)`` does; every
arm then runs k-means and the clustering phase from that autoencoder and from the generator
it left (``fit(..., generator=...)``), so the arm ``none`` gives the default fit's own
numbers to the bit, and the arms differ only in their clustering phase:

* ``none``: the default on plain arrays, ``augment=None``, ``max_iter="auto"`` (20,000);
* ``maskP``: ``augment={"mask": P}`` (each value of the encoder's training batch zeroed with
  probability P, the rest scaled by 1 / (1 - P)), ``max_iter=--max-iter``;
* ``nbrK``: ``augment={"neighbours": K}`` (each row of the encoder's training batch swapped
  for one of its K nearest neighbours in the pretrained embedding), ``max_iter=--max-iter``.

One JSON line per arm, in the form of ``benchmarks/recipes.py run``'s records (``recipe`` is
the arm's tag, with its ACC at every target update), so that ``benchmarks/paired.py ...
--a-plain --b-plain`` tables them; every arm also writes its result at each cap of ``--caps``
read off its history (tag ``ARM@CAP``: what ``max_iter=CAP`` gives, since a cap only stops
the loop at an update).
``--cache`` keeps the pretrained autoencoders (pickles) so that more arms can follow; runs
already in ``--out`` are skipped.  BLAS and the package on one thread (``n_jobs=1``, the same
numbers as any ``n_jobs``), so two such runs go side by side on two cores.
"""
from __future__ import annotations

import argparse
import copy
import datetime
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

from dec_np import DEC  # noqa: E402
from dec_np.cli import load_data, pretrain  # noqa: E402
from dec_np.threads import host_threads  # noqa: E402


def arm_settings(arm, max_iter):
    """DEC's clustering-phase keywords of an arm name ("none" or "maskP")."""
    if arm == "none":
        return {"augment": None}
    if arm.startswith("mask"):
        return {"augment": {"mask": float(arm[4:])}, "max_iter": max_iter}
    if arm.startswith("nbr"):
        return {"augment": {"neighbours": int(arm[3:])}, "max_iter": max_iter}
    raise ValueError(f"unknown arm {arm!r}: none, maskP or nbrK")


def at_cap(history, cap):
    """The DEC ACC a fit capped at ``cap`` iterations ends with: the last update at or
    before ``cap`` in ``history``."""
    i = max(i for i, it in enumerate(history["iteration"]) if it <= cap)
    return history["acc"][i], history["iteration"][i]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sets = {**DATASETS, **EXTRA}  # EXTRA: all 70,000 MNIST images, the embedded digits
    ap.add_argument("--dataset", default="mnist-test", choices=sorted(sets))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--arms", nargs="+", default=["none", "mask0.2"])
    ap.add_argument("--max-iter", type=int, default=4200)
    ap.add_argument("--caps", type=int, nargs="*", default=[2520])
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--cache", default=None, help="folder for the pretrained autoencoders")
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    X, y, _ = load_data(args.dataset, args.data_dir, n_samples=sets[args.dataset])
    X = np.asarray(X)
    commit = _commit()
    for seed in args.seeds:
        todo = [a for a in args.arms if not _done(args.out, a, args.dataset, seed, None)]
        if not todo:
            continue
        cached = Path(args.cache) / f"sae_{args.dataset}_{seed}.pkl" if args.cache else None
        if cached is not None and cached.exists():
            sae, pre_s = pickle.loads(cached.read_bytes())
        else:
            t0 = time.perf_counter()
            with host_threads(1):
                sae = pretrain(X, (500, 500, 2000, 10), "default", None, seed, False, None)
            pre_s = time.perf_counter() - t0
            if cached is not None:
                cached.parent.mkdir(parents=True, exist_ok=True)
                cached.write_bytes(pickle.dumps((sae, pre_s)))
        for arm in todo:
            model = DEC(10, autoencoder=sae, random_state=seed, n_jobs=1,
                        **arm_settings(arm, args.max_iter))
            t0 = time.perf_counter()
            model.fit(X, y, generator=copy.deepcopy(sae.rng))
            dec_s = time.perf_counter() - t0
            h = model.history_
            base = {"dataset": args.dataset, "n": int(X.shape[0]), "seed": seed,
                    "ae_kmeans_acc": h["acc"][0], "pretrain_s": pre_s, "image_shape": None,
                    "augment": model.augment_, "n_jobs": 1, "commit": commit,
                    "date": datetime.date.today().isoformat(), "machine": _machine()}
            emit({"recipe": arm, **base, "dec_acc": h["acc"][-1], "n_iter": model.n_iter_,
                  "max_iter": model.max_iter_, "dec_s": dec_s, "total_s": pre_s + dec_s,
                  "history": {"iteration": h["iteration"], "acc": h["acc"]}}, args.out)
            for cap in args.caps:
                acc, it = at_cap(h, cap)
                share = it / model.n_iter_ if model.n_iter_ else 1.0
                emit({"recipe": f"{arm}@{cap}", **base, "dec_acc": acc, "n_iter": it,
                      "max_iter": cap, "dec_s": dec_s * share,
                      "total_s": pre_s + dec_s * share, "read_off": arm}, args.out)


if __name__ == "__main__":
    main()

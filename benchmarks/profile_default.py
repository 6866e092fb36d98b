"""Where the default pipeline's time goes: a per-stage profile of ``DEC()`` on 10,000 rows.

Runs each stage of the default (or another) schedule for a few hundred steps on the MNIST test
set, with every piece timed: the layer-wise stage's steps (products, dropout masks, optimiser),
the fine-tuning steps (products, shifts, optimiser), the clustering phase's iterations and its
full-data target updates, k-means.  The per-step costs times the schedule's step counts give
each stage's share of a whole fit (the clustering phase's iteration count is the one given by
``--dec-iterations``, about what a fit on 10,000 MNIST images runs).

    python benchmarks/profile_default.py --data-dir ../shared/data [--n-jobs 2|blas]
        [--schedule NAME] [--no-image-shape] [--augment auto|none] [--json out.json]

``--schedule default`` is the images' default (the plain arrays' one with
``--no-image-shape``); the clustering iterations run as ``DEC(augment=...)`` does (``auto``:
DEC's default, shifted and rotated batches on images).  The previous default pipeline:
``--schedule dae-adam-cap-shift --augment none``.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dec_np import augment, dec_math, kmeans as kmeans_mod, layers, optim  # noqa: E402
from dec_np.autoencoder import StackedAutoencoder, capped_lr, stage_steps  # noqa: E402
from dec_np.dec import DEC, clustering_settings  # noqa: E402
from dec_np.datasets import load_mnist  # noqa: E402
from dec_np.scaling import input_scale_factor  # noqa: E402
from dec_np.schedules import for_rows, get_schedule  # noqa: E402
from dec_np.threads import host_threads, resolve_n_jobs  # noqa: E402

CLOCK = collections.defaultdict(float)
_TOP = []  # the piece being timed: nested pieces count once, in the outermost


def timed(label, fn):
    def wrapper(*args, **kwargs):
        if _TOP:
            return fn(*args, **kwargs)
        _TOP.append(label)
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            CLOCK[label] += time.perf_counter() - t
            _TOP.pop()
    return wrapper


@contextmanager
def patched():
    """Time the pieces by wrapping the package's functions (restored afterwards)."""
    targets = [(layers.Dense, "forward", "products: forward"),
               (layers.Dense, "backward", "products: backward"),
               (layers.Dropout, "forward", "dropout masks"),
               (layers.ReLU, "forward", "relu"), (layers.ReLU, "backward", "relu"),
               (optim.SGD, "step", "optimiser update"), (optim.Adam, "step", "optimiser update"),
               (augment, "random_shift", "shifts"), (augment, "random_rotate", "rotations")]
    saved = [(obj, name, getattr(obj, name)) for obj, name, _ in targets]
    for obj, name, label in targets:
        setattr(obj, name, timed(label, getattr(obj, name)))
    try:
        yield
    finally:
        for obj, name, fn in saved:
            setattr(obj, name, fn)


def stage(label, steps, run):
    """Run ``run()`` (``steps`` steps), return (seconds, {piece: ms per step})."""
    CLOCK.clear()
    t = time.perf_counter()
    with patched():
        run()
    total = time.perf_counter() - t
    pieces = {k: 1e3 * v / steps for k, v in CLOCK.items()}
    pieces["other"] = 1e3 * total / steps - sum(pieces.values())
    return total, pieces


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=os.environ.get("DEC_NP_DATA"))
    ap.add_argument("--schedule", default="default")
    ap.add_argument("--n-jobs", default=None, help="int or 'blas' (default: DEC's default)")
    ap.add_argument("--no-image-shape", action="store_true", help="X as plain features")
    ap.add_argument("--augment", choices=("auto", "none"), default="auto",
                    help="the clustering phase's augment (default: DEC's 'auto')")
    ap.add_argument("--steps", type=int, default=300, help="steps timed per stage")
    ap.add_argument("--dec-iterations", type=int, default=3000,
                    help="clustering iterations a whole fit is taken to run (for the shares)")
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    n_jobs = None if args.n_jobs is None else (args.n_jobs if args.n_jobs == "blas"
                                                else int(args.n_jobs))
    X, _ = load_mnist(subset="test", data_dir=args.data_dir)
    n = X.shape[0]
    shape = None if args.no_image_shape else (28, 28)
    s = for_rows(get_schedule(args.schedule, shape is not None), n)  # the settings for n rows
    Xs = X * np.float32(input_scale_factor(X, s["input_scaling"]))
    rows = []
    with host_threads(n_jobs):
        sae = StackedAutoencoder((784, 500, 500, 2000, 10), random_state=0, **s["model"])
        if s["layerwise"]:
            kw = dict(s["layerwise"])
            per_depth = kw.pop("iterations", None) or kw.pop("epochs") * -(-n // kw["batch_size"])
            kw.pop("epochs", None)
            per_depth = stage_steps(n, per_depth, kw["batch_size"], None, kw.pop("max_epochs", None))
            k = args.steps
            sec, pieces = stage("layer-wise", 4 * k, lambda: sae.pretrain_layerwise(
                Xs, iterations=k, **kw))
            rows.append(("layer-wise step", 4 * per_depth, pieces))
        kw = dict(s["finetune"])
        total = kw.pop("iterations", None) or kw.pop("epochs") * -(-n // kw["batch_size"])
        kw.pop("epochs", None)
        total = stage_steps(n, total, kw["batch_size"], kw.pop("min_epochs", None),
                            kw.pop("max_epochs", None))
        if kw.get("lr_epochs"):
            kw["lr"] = capped_lr(kw["lr"], total / -(-n // kw["batch_size"]), kw.pop("lr_epochs"))
        if s.get("augment") and shape is not None:
            kw["augment"] = augment.shifter(shape, s["augment"]["shift"])
        sec, pieces = stage("fine-tuning", args.steps,
                            lambda: sae.finetune(Xs, iterations=args.steps, **kw))
        rows.append(("fine-tuning step", total, pieces))
        # the clustering phase: a DEC with this autoencoder, timed iteration by iteration
        t = time.perf_counter()
        z = sae.encode(Xs)
        mu, _, _ = kmeans_mod.kmeans(z, 10, n_init=20, random_state=0)
        kmeans_s = time.perf_counter() - t
        its = 2 * 140
        model = DEC(10, autoencoder=sae, input_scaling=None, max_iter=its, tol=0.0,
                    random_state=0, n_jobs=n_jobs, image_shape=shape,
                    augment=None if args.augment == "none" else "auto")
        dec_augment = clustering_settings(model)[0]
        CLOCK.clear()
        t = time.perf_counter()
        with patched():
            model.fit(Xs)
        dec_total = time.perf_counter() - t
        pieces = {k: 1e3 * v / its for k, v in CLOCK.items()}
        pieces["other (q, p, KL gradients, target updates)"] = \
            1e3 * dec_total / its - sum(pieces.values())
        rows.append(("clustering iteration", args.dec_iterations, pieces))
    print(f"profile of schedule {args.schedule!r} on {n} MNIST rows, image_shape={shape}, "
          f"clustering augment={dec_augment}, "
          f"n_jobs={args.n_jobs or 'default'} ({resolve_n_jobs(n_jobs) or 'blas'} threads)")
    print(f"| stage | steps in a fit | ms per step | seconds in a fit | pieces (ms per step) |")
    print("|---|---|---|---|---|")
    out = []
    for label, steps, pieces in rows:
        ms = sum(pieces.values())
        text = ", ".join(f"{k} {v:.2f}" for k, v in sorted(pieces.items(), key=lambda kv: -kv[1]))
        print(f"| {label} | {steps:,} | {ms:.2f} | {ms * steps / 1e3:.0f} | {text} |")
        out.append({"stage": label, "steps": steps, "ms_per_step": ms, "pieces": pieces})
    print(f"| k-means (20 restarts) and one encoding | 1 | | {kmeans_s:.1f} | |")
    whole = sum(r["ms_per_step"] * r["steps"] for r in out) / 1e3 + kmeans_s
    print(f"estimated fit: {whole:.0f} s")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"schedule": args.schedule, "image_shape": shape, "n_jobs": args.n_jobs,
                       "augment": dec_augment,
                       "rows": out, "kmeans_s": kmeans_s, "estimated_fit_s": whole}, fh, indent=1)


if __name__ == "__main__":
    main()

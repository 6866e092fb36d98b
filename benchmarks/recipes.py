"""Cross-data-set study of pretraining recipes: DEC on MNIST-10k, USPS and Fashion-MNIST-10k.

Each run is ``DEC(10, schedule=<recipe>, random_state=seed).fit(X, y)`` with every other
setting at its default (y is only recorded, never trained on); one JSON line per run.

    # one recipe on the three data sets, three seeds (about 5 minutes a run on 2 cores)
    OPENBLAS_NUM_THREADS=1 python benchmarks/recipes.py run --recipe adam \\
        --data-dir ../shared/data --seeds 0 1 2 --out docs/results/recipes_cpu.jsonl
    # a change to a recipe: --set PART.KEY=JSON (PART is model, layerwise or finetune)
    python benchmarks/recipes.py run --recipe sgd --set finetune.lr=8 --tag sgd-lr8 ...
    # the table: median [min, max] per recipe and data set, the median over all runs, and
    # which recipe the selection rule picks (tune_defaults.py records of the same protocol
    # on MNIST-10k count too, named by --tune-records)
    python benchmarks/recipes.py summary docs/results/recipes_cpu.jsonl \
        --tune-records docs/results/accept_adam_2threads.json=adam \
        docs/results/accept_default_iterations_2threads.json=b64-steps

Data sets: ``mnist-test`` (the 10,000 MNIST test images), ``usps`` (all 9,298 images) and
``fashion-mnist`` (10,000 images drawn once with seed 0, as ``dec-np fit --n-samples 10000``
draws them).  Every line records the recipe, the command's settings, the git commit, the date,
the BLAS thread count and the timings.
"""
from __future__ import annotations

import argparse
import copy
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

try:
    import dec_np  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dec_np import DEC  # noqa: E402
from dec_np.cli import load_data  # noqa: E402
from dec_np.metrics import ari, cluster_accuracy, nmi  # noqa: E402
from dec_np.schedules import SCHEDULES, get_schedule  # noqa: E402

# end to end, no layer-wise stage, no dropout, Glorot weights, X / max|X|: the "adam" recipe
# with SGD and momentum in its place (lr in "mean" loss units)
END_TO_END = {"p_drop": 0.0, "init_std": "glorot", "loss_reduction": "mean"}
RECIPES = {
    "sgd": {"model": END_TO_END, "input_scaling": "max", "layerwise": None,
            "finetune": {"iterations": 8000, "batch_size": 256, "lr": 4.0, "momentum": 0.9}},
    "nesterov": {"model": END_TO_END, "input_scaling": "max", "layerwise": None,
                 "finetune": {"iterations": 8000, "batch_size": 256, "lr": 4.0, "momentum": 0.9,
                              "nesterov": True}},
}
DATASETS = {"mnist-test": None, "usps": None, "fashion-mnist": 10000}


def recipe(name, changes=()):
    """The schedule dict of ``name`` (a package schedule or one of RECIPES) with --set changes."""
    s = copy.deepcopy(RECIPES[name]) if name in RECIPES else get_schedule(name)
    for change in changes:
        path, value = change.split("=", 1)
        part, key = path.split(".", 1)
        if s.get(part) is None:
            s[part] = {}
        s[part][key] = json.loads(value)
    return s


def _commit():
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, cwd=Path(__file__).resolve().parents[1], timeout=10)
        dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", "dec_np"],
                               cwd=Path(__file__).resolve().parents[1], timeout=10).returncode
        return out.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def run(args):
    schedule = recipe(args.recipe, args.set)
    commit = _commit()  # the code these runs import, whatever the checkout becomes meanwhile
    tag = args.tag or args.recipe
    for name in args.datasets:
        X, y, _ = load_data(name, args.data_dir, n_samples=DATASETS.get(name))
        for seed in args.seeds:
            t0, c0 = time.perf_counter(), time.process_time()
            m = DEC(10, schedule=schedule, random_state=seed, verbose=args.verbose,
                    backend=args.backend).fit(X, y)
            row = {"recipe": tag, "dataset": name, "n": len(X), "seed": seed,
                   "ae_kmeans_acc": cluster_accuracy(y, m.init_labels_),
                   "dec_acc": cluster_accuracy(y, m.labels_), "dec_nmi": nmi(y, m.labels_),
                   "dec_ari": ari(y, m.labels_), "n_iter": m.n_iter_,
                   "pretrain_s": m.pretrain_time_, "total_s": time.perf_counter() - t0,
                   "cpu_s": time.process_time() - c0, "schedule": schedule,
                   "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
                   "commit": commit, "date": datetime.date.today().isoformat(),
                   "machine": f"{platform.machine()} {os.cpu_count()} cores",
                   "backend": args.backend or "numpy"}
            line = json.dumps({k: round(v, 4) if isinstance(v, float) else v
                               for k, v in row.items()})
            print(line, flush=True)
            if args.out:
                with open(args.out, "a") as fh:
                    fh.write(line + "\n")


def read_rows(paths):
    rows = []
    for path in paths:
        with open(path) as fh:
            rows += [json.loads(line) for line in fh if line.strip()]
    return [r for r in rows if "dec_acc" in r]


def tune_rows(specs):
    """Rows from ``benchmarks/tune_defaults.py`` records (the same protocol on the MNIST test
    set: ``DEC(10, schedule=..., random_state=seed).fit(X, y)``), given as FILE=RECIPE."""
    rows = []
    for spec in specs:
        path, _, name = spec.partition("=")
        with open(path) as fh:
            text = fh.read()
        records = json.loads(text) if text.lstrip().startswith("[") else \
            [json.loads(line) for line in text.splitlines() if line.strip()]
        rows += [dict(r, recipe=name, dataset="mnist-test", source=path) for r in records
                 if "dec_acc" in r]
    return rows


def summary(args):
    rows = read_rows(args.files) + tune_rows(args.tune_records)
    recipes = list(dict.fromkeys(r["recipe"] for r in rows))
    sets = [d for d in DATASETS if any(r["dataset"] == d for r in rows)]
    stat = {}
    print("| recipe | " + " | ".join(sets) + " | all runs |")
    print("|---" * (len(sets) + 2) + "|")
    for rec in recipes:
        cells, every = [], []
        for d in sets:
            acc = [r["dec_acc"] for r in rows if r["recipe"] == rec and r["dataset"] == d]
            every += acc
            stat[rec, d] = float(np.median(acc)) if acc else None
            cells.append(f"{np.median(acc):.3f} [{min(acc):.3f}, {max(acc):.3f}] (n={len(acc)})"
                         if acc else "-")
        stat[rec, "all"] = float(np.median(every))
        cells.append(f"{np.median(every):.3f} (n={len(every)})")
        print(f"| {rec} | " + " | ".join(cells) + " |")
    # the rule: the best median over all runs among the recipes that have every data set and
    # are nowhere more than 2 points below the best recipe on that data set
    full = [r for r in recipes if all(stat[r, d] is not None for d in sets)]
    if not full:
        print("\nno recipe has runs on every data set yet: no choice made")
        return
    best = {d: max(stat[r, d] for r in full) for d in sets}
    ok = [r for r in full if all(stat[r, d] >= best[d] - 0.02 for d in sets)]
    if ok:
        pick = max(ok, key=lambda r: stat[r, "all"])
        print(f"\nselection rule picks {pick!r} (median over all runs {stat[pick, 'all']:.3f}); "
              f"within 2 points of the best on every data set: {ok}")
    else:
        print("\nno recipe is within 2 points of the best on every data set")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run")
    r.add_argument("--recipe", required=True, choices=sorted(set(SCHEDULES) | set(RECIPES)))
    r.add_argument("--set", nargs="*", default=[], metavar="PART.KEY=JSON")
    r.add_argument("--tag", default=None, help="the name recorded (default: the recipe's)")
    r.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    r.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    r.add_argument("--data-dir", default=None)
    r.add_argument("--backend", default=None)
    r.add_argument("--out", default=None, help="append the JSON lines to this file")
    r.add_argument("--verbose", action="store_true")
    s = sub.add_parser("summary")
    s.add_argument("files", nargs="+")
    s.add_argument("--tune-records", nargs="*", default=[], metavar="FILE=RECIPE",
                   help="also count tune_defaults.py records of MNIST-10k runs as RECIPE")
    args = ap.parse_args(argv)
    return run(args) if args.command == "run" else summary(args)


if __name__ == "__main__":
    sys.exit(main())

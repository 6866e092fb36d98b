"""Cross-data-set study of pretraining recipes: DEC on MNIST-10k, USPS and Fashion-MNIST-10k.

Each run is ``DEC(10, schedule=<recipe>, image_shape=<the images' shape>,
random_state=seed).fit(X, y)`` with every other setting at its default or as ``--dec`` sets
it (y is only recorded, never trained on; the image shape matters only to a recipe that
augments); one JSON line per run.

    # one recipe on the three data sets, three seeds (about 5 minutes a run on 2 cores)
    OPENBLAS_NUM_THREADS=1 python benchmarks/recipes.py run --recipe adam \\
        --data-dir ../shared/data --seeds 0 1 2 --out docs/results/recipes_cpu.jsonl
    # a change to a recipe: --set PART.KEY=JSON (PART is model, layerwise or finetune)
    python benchmarks/recipes.py run --recipe sgd --set finetune.lr=8 --tag sgd-lr8 ...
    # DEC's own parameters: --dec KEY=JSON (recorded under "dec")
    python benchmarks/recipes.py run --recipe dae-adam-cap-shift --tag T \
        --dec 'augment={"shift": 0.1}' max_iter=2520 ...
    # the table: median [min, max] per recipe and data set, the median over all runs, and
    # which recipe the selection rule picks (--tune-records FILE=RECIPE adds tune_defaults.py
    # records of the same protocol on MNIST-10k: only those made on the same machine;
    # --machine EPYC keeps the records of one machine)
    python benchmarks/recipes.py summary docs/results/recipes_cpu.jsonl [--machine Xeon]
    # and the MNIST-70k check a default must also pass (five seeds, median >= 0.88, none
    # below 0.85): recipes whose 70k runs of the same schedule fail it are out
    python benchmarks/recipes.py summary docs/results/recipes_cpu.jsonl --machine Xeon \
        --check docs/results/mnist70k_cpu.jsonl

Data sets: ``mnist-test`` (the 10,000 MNIST test images), ``usps`` (all 9,298 images) and
``fashion-mnist`` (10,000 images drawn once with seed 0, as ``dec-np fit --n-samples 10000``
draws them).  ``--datasets mnist`` runs on all 70,000 MNIST images (kept out of the study's
table: write those runs to another file).  Every line records the recipe, the schedule, the
git commit, the date, the CPU, the BLAS thread count and the timings.
"""
from __future__ import annotations

import argparse
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
from dec_np.schedules import SCHEDULES  # noqa: E402
from dec_np.threads import resolve_n_jobs  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from candidates import CANDIDATES, schedule  # noqa: E402

#: the study's candidates beside the package's named schedules (a candidate's name wins)
RECIPES = CANDIDATES
DATASETS = {"mnist-test": None, "usps": None, "fashion-mnist": 10000}
# not in the study: all 70,000 MNIST images (the default's acceptance runs), and the embedded
# 8x8 digits for trying the script
EXTRA = {"mnist": None, "digits": None}


def _machine():
    """The CPU's model name and core count (a seed's result depends on the BLAS kernel)."""
    try:
        with open("/proc/cpuinfo") as fh:
            model = next(line.split(":", 1)[1].strip() for line in fh
                         if line.startswith("model name"))
    except (OSError, StopIteration):
        model = platform.processor() or platform.machine()
    return f"{model}, {os.cpu_count()} cores"


def recipe(name, changes=()):
    """The schedule dict of ``name`` (one of RECIPES or a package schedule) with --set changes."""
    s = schedule(name)
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


def _n_jobs(text):
    return text if text == "blas" else int(text)


def run(args):
    schedule = recipe(args.recipe, args.set)
    commit = _commit()  # the code these runs import, whatever the checkout becomes meanwhile
    tag = args.tag or args.recipe
    jobs = resolve_n_jobs(args.n_jobs)  # None: BLAS's own threads
    dec_kw = dec_options(args.dec)
    for name in args.datasets:
        X, y, shape = load_data(name, args.data_dir, n_samples=DATASETS.get(name))
        shape = None if args.plain else shape  # --plain: the rows as plain features
        for seed in args.seeds:
            if args.out and _done(args.out, tag, name, seed, shape):
                continue  # a record of this run is in --out already (runs resume)
            t0, c0 = time.perf_counter(), time.process_time()
            # the rows are images: a recipe that augments shifts them (the others ignore it)
            m = DEC(10, hidden_dims=tuple(args.hidden_dims), schedule=schedule,
                    image_shape=shape, random_state=seed, verbose=args.verbose,
                    backend=args.backend, n_jobs=args.n_jobs, **dec_kw).fit(X, y)
            row = {"recipe": tag, "dataset": name, "n": len(X), "seed": seed,
                   "ae_kmeans_acc": cluster_accuracy(y, m.init_labels_),
                   "dec_acc": cluster_accuracy(y, m.labels_), "dec_nmi": nmi(y, m.labels_),
                   "dec_ari": ari(y, m.labels_), "n_iter": m.n_iter_,
                   "pretrain_s": m.pretrain_time_, "total_s": time.perf_counter() - t0,
                   "cpu_s": time.process_time() - c0, "schedule": schedule,
                   "ran": m.schedule_,  # as it ran on these rows
                   "blas_threads": (os.environ.get("OPENBLAS_NUM_THREADS")
                                    if jobs is None else "1"),
                   "n_jobs": jobs or "blas", "image_shape": shape, "dec": dec_kw,
                   "commit": commit, "date": datetime.date.today().isoformat(),
                   "machine": _machine(), "hidden_dims": list(args.hidden_dims),
                   "backend": args.backend or "numpy"}
            emit(row, args.out)


def dec_options(changes):
    """DEC's own parameters from ``KEY=JSON`` texts (``--dec``), e.g. ``max_iter=4200``.

    >>> dec_options(['augment={"shift": 0.1}', "max_iter=4200"])
    {'augment': {'shift': 0.1}, 'max_iter': 4200}
    """
    out = {}
    for change in changes:
        key, value = change.split("=", 1)
        if key in ("n_clusters", "hidden_dims", "schedule", "image_shape", "random_state",
                   "backend", "n_jobs", "verbose"):
            raise SystemExit(f"--dec {key}: set by the script's own options")
        out[key] = json.loads(value)
    return out


def emit(row, out=None):
    """Print ``row`` as one JSON line (floats to 4 places) and append it to ``out``."""
    line = json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()})
    print(line, flush=True)
    if out:
        with open(out, "a") as fh:
            fh.write(line + "\n")


def _done(path, tag, dataset, seed, shape):
    """Whether ``path`` holds a record of this run (same tag, data set, seed and image_shape)."""
    if not os.path.exists(path):
        return False
    want = None if shape is None else list(shape)
    with open(path) as fh:
        return any(r.get("recipe") == tag and r.get("dataset") == dataset
                   and r.get("seed") == seed and r.get("image_shape", "unset") == want
                   for r in map(json.loads, filter(str.strip, fh)))


def read_rows(paths, machine=None):
    """The run records of the JSON-lines files ``paths``; with ``machine``, only those whose
    "machine" contains it (e.g. "EPYC"), since the machine alone moves a seed's result."""
    rows = []
    for path in paths:
        with open(path) as fh:
            rows += [json.loads(line) for line in fh if line.strip()]
    return [r for r in rows if "dec_acc" in r
            and (machine is None or machine in r.get("machine", ""))]


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


def uses_sgd(schedule):
    """True when no stage of ``schedule`` trains with Adam: SGD (with momentum) throughout.

    A stage without "optimizer" uses what StackedAutoencoder chooses for it: SGD when it
    names a learning rate, Adam when it does not.
    """
    def optimizer(stage):
        return stage.get("optimizer") or ("sgd" if stage.get("lr") is not None else "adam")
    return all(stage is None or optimizer(stage) == "sgd"
               for stage in (schedule.get("layerwise"), schedule.get("finetune")))


#: the MNIST-70k check a default must pass: five seeds, median >= 0.88, none below 0.85
CHECK_SEEDS, CHECK_MEDIAN, CHECK_MIN = 5, 0.88, 0.85


def check_70k(accs):
    """The MNIST-70k check on one recipe's DEC ACCs: "passes", "fails" or "incomplete".

    It fails as soon as a run is below ``CHECK_MIN`` or so many runs are below
    ``CHECK_MEDIAN`` that the median of ``CHECK_SEEDS`` cannot reach it; it passes with at
    least ``CHECK_SEEDS`` runs, their median at least ``CHECK_MEDIAN``, none below ``CHECK_MIN``.
    """
    if any(a < CHECK_MIN for a in accs) or \
            sum(a < CHECK_MEDIAN for a in accs) > CHECK_SEEDS // 2:
        return "fails"
    if len(accs) >= CHECK_SEEDS and float(np.median(accs)) >= CHECK_MEDIAN:
        return "passes"
    return "incomplete"


def choose(rows, big=None):
    """The study's table and the selection rule, from run rows.

    Returns ``(lines, pick)``: the markdown table (median [min, max] (n) per recipe and data
    set, then the median over all its runs) with the rule's verdict, and the chosen recipe's
    name or None.  The rule: among the recipes with runs on every data set and nowhere more
    than 2 points below the best recipe's median on that data set, the best median over all
    runs; but an SGD-with-momentum recipe (no Adam stage) within 1 point of that median is
    chosen instead, the best such one, since SGD with momentum is what the package teaches.

    ``big``, the rows of MNIST-70k runs, adds the check a default must pass there
    (:func:`check_70k`): a recipe whose 70k runs of the same schedule fail it is out, and
    the verdict says whether the pick has passed it.
    """
    recipes = list(dict.fromkeys(r["recipe"] for r in rows))
    sets = [d for d in {**DATASETS, **EXTRA} if any(r["dataset"] == d for r in rows)]
    sgd = {}
    for r in rows:
        s = r.get("schedule") or (schedule(r["recipe"])
                                  if r["recipe"] in set(SCHEDULES) | set(RECIPES) else None)
        sgd.setdefault(r["recipe"], s is not None and uses_sgd(s))
    stat, lines = {}, ["| recipe | " + " | ".join(sets) + " | all runs |",
                       "|---" * (len(sets) + 2) + "|"]
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
        lines.append(f"| {rec}{' (SGD)' if sgd[rec] else ''} | " + " | ".join(cells) + " |")
    full = [r for r in recipes if all(stat[r, d] is not None for d in sets)]
    if not full:
        return lines + ["", "no recipe has runs on every data set yet: no choice made"], None
    best = {d: max(stat[r, d] for r in full) for d in sets}
    ok = [r for r in full if all(stat[r, d] >= best[d] - 0.02 for d in sets)]
    out = [f"{r!r} is out: " + ", ".join(
        f"{d} {stat[r, d]:.3f}, {100 * (best[d] - stat[r, d]):.1f} points below the best "
        f"({best[d]:.3f})" for d in sets if stat[r, d] < best[d] - 0.02)
        for r in full if r not in ok]
    checked = {}
    if big is not None:
        for rec in ok:
            schedules = [r.get("schedule") for r in rows if r["recipe"] == rec]
            accs = [r["dec_acc"] for r in big if r["recipe"] == rec
                    and r.get("schedule") in schedules]
            checked[rec] = (check_70k(accs), accs)
        failed = [r for r in ok if checked[r][0] == "fails"]
        out += [f"{r!r} is out: fails the MNIST-70k check (DEC ACC "
                f"{', '.join(f'{a:.3f}' for a in checked[r][1])})" for r in failed]
        ok = [r for r in ok if r not in failed]
    if not ok:
        why = ("no recipe within 2 points of the best on every data set passes or awaits the "
               "MNIST-70k check" if checked else
               "no recipe is within 2 points of the best on every data set")
        return lines + ["", *out, why + ": no choice made"], None
    top = max(ok, key=lambda r: stat[r, "all"])
    near = [r for r in ok if sgd[r] and stat[r, "all"] >= stat[top, "all"] - 0.01]
    pick = max(near, key=lambda r: stat[r, "all"]) if near else top
    why = (f"the best median over all runs ({stat[top, 'all']:.3f}) among {ok}, the recipes "
           f"within 2 points of the best on every data set")
    if pick != top:
        why += f"; {pick!r} uses SGD with momentum and is within 1 point ({stat[pick, 'all']:.3f})"
    elif not sgd[top]:
        why += "; no SGD recipe among them within 1 point"
    if big is not None:
        state, accs = checked[pick]
        why += (f"; MNIST-70k check {state} ({len(accs)} runs"
                + (f", median {np.median(accs):.3f}, min {min(accs):.3f})" if accs else ")"))
    return lines + ["", *out, f"selection rule picks {pick!r}: {why}"], pick


def summary(args):
    big = read_rows(args.check, args.machine) if args.check else None
    rows = read_rows(args.files, args.machine) + tune_rows(args.tune_records)
    if args.metric != "dec_acc":  # the same table of another recorded score
        rows = [dict(r, dec_acc=r[args.metric]) for r in rows if args.metric in r]
        big = None if big is None else [dict(r, dec_acc=r[args.metric]) for r in big]
    lines, _ = choose(rows, big)
    print("\n".join(lines))


def main(argv=None):
    """The command line: ``run`` (one JSON line per run) or ``summary`` (the table)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run")
    r.add_argument("--recipe", required=True, choices=sorted(set(SCHEDULES) | set(RECIPES)))
    r.add_argument("--set", nargs="+", action="extend", default=[], metavar="PART.KEY=JSON",
                   help="change a recipe: --set a=1 b=2 or --set a=1 --set b=2 (both kept)")
    r.add_argument("--dec", nargs="+", action="extend", default=[], metavar="KEY=JSON",
                   help="DEC's own parameters, e.g. --dec 'augment={\"shift\": 0.1}' "
                        "max_iter=4200 (recorded under \"dec\")")
    r.add_argument("--tag", default=None, help="the name recorded (default: the recipe's)")
    r.add_argument("--datasets", nargs="+", default=list(DATASETS),
                   choices=list(DATASETS) + list(EXTRA))
    r.add_argument("--hidden-dims", nargs="+", type=int, default=[500, 500, 2000, 10],
                   help="the network after the input (default: the paper's 500 500 2000 10)")
    r.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    r.add_argument("--data-dir", default=None)
    r.add_argument("--backend", default=None)
    r.add_argument("--n-jobs", default=None, type=_n_jobs,
                   help="DEC's n_jobs: host threads, BLAS on one, the same numbers for every "
                        "value (the study's records: 1); 'blas' or none for BLAS's own threads "
                        "(OPENBLAS_NUM_THREADS; DEC's default)")
    r.add_argument("--out", default=None, help="append the JSON lines to this file")
    r.add_argument("--verbose", action="store_true")
    r.add_argument("--plain", action="store_true",
                   help="fit without image_shape: the rows as plain features, never shifted")
    s = sub.add_parser("summary")
    s.add_argument("files", nargs="+")
    s.add_argument("--tune-records", nargs="*", default=[], metavar="FILE=RECIPE",
                   help="also count tune_defaults.py records of MNIST-10k runs as RECIPE")
    s.add_argument("--machine", default=None,
                   help="only the records whose machine contains this text (e.g. EPYC)")
    s.add_argument("--metric", default="dec_acc",
                   help="the recorded score tabled: dec_acc (default; what the rule judges), "
                        "ae_kmeans_acc, dec_nmi, dec_ari")
    s.add_argument("--check", nargs="+", default=[], metavar="FILE",
                   help="MNIST-70k records: recipes whose runs there fail the default's "
                        "check (five seeds, median >= 0.88, none below 0.85) are out")
    args = ap.parse_args(argv)
    return run(args) if args.command == "run" else summary(args)


if __name__ == "__main__":
    sys.exit(main())

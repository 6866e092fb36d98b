"""One whole fit by a checkout's ``dec-np`` command line, timed, as one JSON line.

Runs ``python -m dec_np fit ARGS --out DIR`` with the package of checkout ``--tree`` (another
commit's, for a before/after comparison), measures its wall time and peak memory, and appends
a record in the form of ``benchmarks/recipes.py run``'s to ``--out`` (so that
``benchmarks/paired.py`` tables it): the tag, data set, seed, AE + k-means and DEC scores,
the fit's own times, the commit, date and machine.

    python benchmarks/fit_record.py --tree /path/to/checkout --tag default@29fa74e \\
        --dataset mnist-test --out docs/results/before_after_xeon.jsonl \\
        -- --dataset mnist-test --seed 0 --data-dir ../shared/data

``benchmarks/before_after.sh`` runs it for the default of two commits, alternated.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from recipes import _done, _machine, emit  # noqa: E402


def fit(tree, args):
    """Run the fit of checkout ``tree``; (its metrics.json as a dict, wall s, peak MB)."""
    with tempfile.TemporaryDirectory() as out:
        env = dict(os.environ, PYTHONPATH=str(tree))
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "dec_np", "fit", *args, "--no-figures",
                        "--quiet", "--out", out], cwd=tree, env=env, check=True)
        wall = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        with open(Path(out) / "metrics.json") as fh:
            metrics = json.load(fh)
    # ru_maxrss: the largest child's peak, in kB on Linux (one fit per call of this script)
    return metrics, wall, peak / 1024


def record(metrics, wall, peak_mb, tag, dataset, image_shape, commit, jobs="default"):
    """The JSON record of one fit, with the keys of ``benchmarks/recipes.py run``'s; ``jobs``
    is the fit's ``--jobs`` ("default" when it gave none)."""
    return {"recipe": tag, "dataset": dataset, "n": metrics["n_samples"],
            "seed": metrics["seed"], "ae_kmeans_acc": metrics["ae_kmeans"]["acc"],
            "dec_acc": metrics["dec"]["acc"], "dec_nmi": metrics["dec"]["nmi"],
            "dec_ari": metrics["dec"]["ari"], "n_iter": metrics["n_iter"],
            "pretrain_s": round(metrics["times_s"]["pretrain"], 1),
            "total_s": round(metrics["times_s"]["total"], 1), "wall_s": round(wall, 1),
            "max_rss_mb": round(peak_mb), "image_shape": image_shape, "backend": "numpy",
            "n_jobs": jobs, "commit": commit,
            "date": datetime.date.today().isoformat(), "machine": _machine()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tree", required=True, help="the checkout whose package runs the fit")
    ap.add_argument("--tag", required=True, help="the record's recipe name")
    ap.add_argument("--dataset", required=True, help="the record's data set name")
    ap.add_argument("--image-shape", default=None,
                    help="H,W when the fit was told the rows are images")
    ap.add_argument("--out", default=None, help="JSON-lines file to append to")
    ap.add_argument("fit_args", nargs=argparse.REMAINDER,
                    help="-- then the arguments of dec-np fit")
    args = ap.parse_args(argv)
    fit_args = args.fit_args[1:] if args.fit_args[:1] == ["--"] else args.fit_args
    tree = Path(args.tree).resolve()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=tree,
                            capture_output=True, text=True, check=True).stdout.strip()
    shape = [int(v) for v in args.image_shape.split(",")] if args.image_shape else None
    seed = int(fit_args[fit_args.index("--seed") + 1]) if "--seed" in fit_args else 0
    if args.out and _done(args.out, args.tag, args.dataset, seed, shape):
        return  # recorded already: a script of several fits resumes
    metrics, wall, peak = fit(tree, fit_args)
    jobs = fit_args[fit_args.index("--jobs") + 1] if "--jobs" in fit_args else "default"
    emit(record(metrics, wall, peak, args.tag, args.dataset, shape, commit, jobs), args.out)


if __name__ == "__main__":
    main()

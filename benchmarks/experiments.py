"""The DEC paper's experiments as commands: the MNIST table, imbalanced data, choosing k, other data.

Each command prints a markdown table and writes ``<out>/<command>.json`` (every run) and
``<out>/<command>.md``.  Full scale takes hours on a CPU (minutes on a GPU); ``--n`` and
``--max-iter`` shorten a run, e.g. a smoke test in seconds:

    python benchmarks/experiments.py mnist-table --data-dir ../shared/data --n 500 \\
        --hidden-dims 32,10 --schedule fast --max-iter 100 --seeds 0 1
    python benchmarks/experiments.py mnist-table --data-dir ../shared/data --seeds 0 1 2 \\
        --backend cupy                                  # the paper's setting (70,000 images)

Commands: mnist-table (k-means on pixels, AE+k-means, DEC w/o backprop, DEC; one pretrained
autoencoder per seed shared by the three AE rows), imbalanced (r_min = 0.1 .. 0.9), select-k
(G = L_train / L_validation and NMI for k = 5 .. 15), other-datasets (USPS, Fashion-MNIST).
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

from dec_np import DEC  # noqa: E402
from dec_np.cli import (_dims, blas_threads, load_data, markdown_table, pretrain,  # noqa: E402
                        scores, select_k)
from dec_np.datasets import imbalanced_subsample  # noqa: E402
from dec_np.kmeans import kmeans  # noqa: E402
from dec_np.backend import asnumpy  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from candidates import schedule  # noqa: E402


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


def dec_kwargs(args):
    """DEC settings from the command line; unset ones keep DEC's defaults."""
    kw = {"backend": args.backend, "verbose": args.verbose}
    if args.max_iter is not None:
        kw["max_iter"] = args.max_iter
    if args.update_interval is not None:
        kw["update_interval"] = args.update_interval
    return kw


def methods_on(X, y, args, seed, k=10, rows=("kmeans", "ae_kmeans", "dec_no_backprop", "dec")):
    """Score the paper's methods on (X, y) for one seed; one autoencoder for the AE rows."""
    out = {}
    if "kmeans" in rows:
        t = time.perf_counter()
        _, labels, _ = kmeans(X, k, n_init=args.n_init, random_state=seed)
        out["kmeans"] = dict(scores(y, asnumpy(labels)), time_s=time.perf_counter() - t)
    if not set(rows) - {"kmeans"}:
        return out
    t = time.perf_counter()
    sae = pretrain(X, args.hidden_dims, args.schedule, args.backend, seed, args.verbose)
    t_pre = time.perf_counter() - t
    for name, update_encoder in (("dec", True), ("dec_no_backprop", False)):
        if name not in rows and not (name == "dec" and "ae_kmeans" in rows):
            continue
        t = time.perf_counter()
        model = DEC(k, autoencoder=sae, schedule=args.schedule, update_encoder=update_encoder,
                    random_state=seed,
                    n_init=args.n_init, **dec_kwargs(args)).fit(X)
        if name == "dec" and "ae_kmeans" in rows:  # DEC's starting point: k-means on z
            out["ae_kmeans"] = dict(scores(y, model.init_labels_), time_s=t_pre)
        if name in rows:
            out[name] = dict(scores(y, model.labels_), n_iter=model.n_iter_,
                             time_s=t_pre + time.perf_counter() - t)
    log(f"  seed {seed}: " + ", ".join(f"{m} ACC {s['acc']:.4f}" for m, s in out.items()))
    return out


def summarise(runs, key_fields):
    """Mean and std over seeds of ACC and NMI, grouped by ``key_fields`` + method."""
    groups = {}
    for r in runs:
        groups.setdefault(tuple(r[f] for f in key_fields) + (r["method"],), []).append(r)
    rows = []
    for key, rs in groups.items():
        row = dict(zip(key_fields + ["method"], key))
        for m in ("acc", "nmi"):
            v = np.array([r[m] for r in rs])
            row[f"{m}_mean"], row[f"{m}_std"] = float(v.mean()), float(v.std())
        row["seeds"] = len(rs)
        rows.append(row)
    return rows


def finish(args, name, runs, rows, columns):
    table = markdown_table(rows, columns)
    print(table)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    settings = {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(args).items()
                if k != "func"}
    (out / f"{name}.json").write_text(json.dumps(
        {"experiment": name, "settings": settings, "runs": runs, "summary": rows}, indent=2) + "\n")
    (out / f"{name}.md").write_text(table + "\n")
    log(f"wrote {out / (name + '.json')} and {name}.md")


# ----------------------------------------------------------------------------- commands
def mnist_table(args):
    X, y, _ = load_data(args.dataset, args.data_dir, n_samples=args.n)
    log(f"mnist-table: {args.dataset}, {len(X)} images, seeds {args.seeds}")
    runs = []
    for seed in args.seeds:
        for method, s in methods_on(X, y, args, seed).items():
            runs.append(dict(s, method=method, seed=seed))
    finish(args, "mnist-table", runs, summarise(runs, []),
           ["method", "acc_mean", "acc_std", "nmi_mean", "nmi_std", "seeds"])


def imbalanced(args):
    X, y, _ = load_data(args.dataset, args.data_dir, n_samples=args.n)
    runs = []
    for r_min in args.r_min:
        for seed in args.seeds:
            Xs, ys = imbalanced_subsample(X, y, r_min, random_state=seed)
            log(f"imbalanced: r_min={r_min}, {len(Xs)} images")
            for method, s in methods_on(Xs, ys, args, seed,
                                        rows=("kmeans", "ae_kmeans", "dec")).items():
                runs.append(dict(s, method=method, seed=seed, r_min=r_min, n=len(Xs)))
    finish(args, "imbalanced", runs, summarise(runs, ["r_min"]),
           ["r_min", "method", "acc_mean", "acc_std", "nmi_mean", "nmi_std", "seeds"])


def select_k_experiment(args):
    X, y, _ = load_data(args.dataset, args.data_dir, n_samples=args.n)
    runs = []
    for seed in args.seeds:
        order = np.random.default_rng(seed).permutation(len(X))
        n_val = int(round(args.val_fraction * len(X)))
        tr, va = np.sort(order[n_val:]), np.sort(order[:n_val])
        sae = pretrain(X[tr], args.hidden_dims, args.schedule, args.backend, seed, args.verbose)
        make = lambda k: DEC(k, autoencoder=sae, schedule=args.schedule, random_state=seed,
                             n_init=args.n_init,
                             **dec_kwargs(args))
        for row in select_k(X[tr], X[va], range(args.k_min, args.k_max + 1), make, y[tr], y[va]):
            runs.append(dict(row, seed=seed))
    rows = []
    for k in range(args.k_min, args.k_max + 1):
        rs = [r for r in runs if r["k"] == k]
        rows.append({"k": k, **{f"{m}_mean": float(np.mean([r[m] for r in rs]))
                                for m in ("G", "nmi_train", "nmi_val", "L_train", "L_val")},
                     "seeds": len(rs)})
    finish(args, "select-k", runs, rows,
           ["k", "G_mean", "nmi_train_mean", "nmi_val_mean", "L_train_mean", "L_val_mean"])


def other_datasets(args):
    runs = []
    for name in args.datasets:
        X, y, _ = load_data(name, args.data_dir, n_samples=args.n)
        log(f"other-datasets: {name}, {len(X)} images")
        for seed in args.seeds:
            for method, s in methods_on(X, y, args, seed,
                                        rows=("kmeans", "ae_kmeans", "dec")).items():
                runs.append(dict(s, method=method, seed=seed, dataset=name))
    finish(args, "other-datasets", runs, summarise(runs, ["dataset"]),
           ["dataset", "method", "acc_mean", "acc_std", "nmi_mean", "nmi_std", "seeds"])


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, func, helptext in (
            ("mnist-table", mnist_table, "k-means, AE+k-means, DEC w/o backprop, DEC on MNIST"),
            ("imbalanced", imbalanced, "k-means, AE+k-means, DEC on imbalanced MNIST subsets"),
            ("select-k", select_k_experiment, "generalizability G and NMI against k"),
            ("other-datasets", other_datasets, "k-means, AE+k-means, DEC on USPS, Fashion-MNIST")):
        p = sub.add_parser(name, help=helptext)
        p.set_defaults(func=func)
        p.add_argument("--data-dir", help="folder with mnist/, fashion-mnist/, usps/")
        p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
        p.add_argument("--n", "--subset", type=int, dest="n",
                       help="random subset of this many images (default: all)")
        p.add_argument("--backend", choices=("numpy", "cupy"))
        p.add_argument("--out", default="benchmarks/results")
        p.add_argument("--hidden-dims", type=_dims, default=(500, 500, 2000, 10))
        p.add_argument("--schedule", default="default",
                       type=schedule, help="pretraining: a name in dec_np.schedules (default, paper, "
                            "paper-short, fast, ...) or benchmarks/candidates.py (b256, b64-epochs, ...)")
        p.add_argument("--max-iter", type=int, help="DEC iterations (default DEC's)")
        p.add_argument("--update-interval", type=int, help="(default DEC's)")
        p.add_argument("--n-init", type=int, default=20, help="k-means restarts")
        p.add_argument("--verbose", action="store_true", help="training progress")
        p.add_argument("--threads", type=int, help="CPU BLAS threads (needs threadpoolctl)")
        if name == "other-datasets":
            p.add_argument("--datasets", nargs="+", default=["usps", "fashion-mnist"])
        else:
            p.add_argument("--dataset", default="mnist", help="mnist (70,000) or mnist-test")
        if name == "imbalanced":
            p.add_argument("--r-min", type=float, nargs="+", default=[0.1, 0.3, 0.5, 0.7, 0.9])
        if name == "select-k":
            p.add_argument("--k-min", type=int, default=5)
            p.add_argument("--k-max", type=int, default=15)
            p.add_argument("--val-fraction", type=float, default=0.2)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    t = time.perf_counter()
    with blas_threads(args.threads):
        args.func(args)
    log(f"{args.command}: {time.perf_counter() - t:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

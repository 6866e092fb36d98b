"""Sweep of DEC settings on the 10,000-image MNIST test set: AE+k-means and DEC ACC per seed.

Used to choose the defaults in dec_np/schedules.py and DEC.__init__ (README, "How the
defaults were chosen").  Runs on either backend; on a GPU the whole sweep takes minutes.

    python benchmarks/tune_defaults.py --data-dir ../shared/data --backend cupy --seeds 0 1 2
"""
import argparse
import copy
import json
import sys
import time
from pathlib import Path

from dec_np import DEC
from dec_np.datasets import load_mnist
from dec_np.metrics import cluster_accuracy, nmi
sys.path.insert(0, str(Path(__file__).resolve().parent))
from candidates import CANDIDATES  # noqa: E402


def variants():
    # Rounds 1 to 5 were run relative to the epoch-based schedule now called "b64-epochs"
    # (the default until round 6); "default" is today's default schedule, given by name so
    # that DEC also takes its input scaling (these runs pass no image_shape, so since round 9
    # "default" trains as "adam", unshifted); "b64-steps" is round 6's default.
    base = copy.deepcopy(CANDIDATES["b64-epochs"])
    out = {"default": ("default", {}), "b64-epochs": (base, {}), "b64-steps": (copy.deepcopy(CANDIDATES["b64-steps"]), {})}

    def var(name, dec_kw=None, **changes):
        s = copy.deepcopy(base)
        for path, value in changes.items():
            part, key = path.split("__")
            s[part][key] = value
        out[name] = (s, dec_kw or {})

    # Variants are relative to CANDIDATES["b64-epochs"]; the rounds that chose it are in
    # README ("How the defaults were chosen").  Those that set batch size, lr and epochs
    # name a full setting whatever the default is now.
    var("b256-lw2-ft1", layerwise__batch_size=256, layerwise__lr=2.0, layerwise__epochs=30,
        finetune__batch_size=256, finetune__lr=1.0, finetune__epochs=60)
    var("lw4-ft2", layerwise__lr=4.0, finetune__lr=2.0)
    var("b64", layerwise__batch_size=64, layerwise__lr=1.0, finetune__batch_size=64,
        finetune__lr=0.5)
    var("b64-step", layerwise__batch_size=64, layerwise__lr=1.0, finetune__batch_size=64,
        finetune__lr=0.5, finetune__lr_step=6400)
    var("b64-long", layerwise__batch_size=64, layerwise__lr=1.0, layerwise__epochs=40,
        finetune__batch_size=64, finetune__lr=0.5, finetune__epochs=100)
    var("b64-xl", layerwise__batch_size=64, layerwise__lr=1.0, layerwise__epochs=50,
        finetune__batch_size=64, finetune__lr=0.5, finetune__epochs=200)
    var("adam", layerwise__optimizer="adam", layerwise__lr=1e-3,
        finetune__optimizer="adam", finetune__lr=1e-3)
    var("adam-ftstep", layerwise__optimizer="adam", layerwise__lr=1e-3,
        finetune__optimizer="adam", finetune__lr=1e-3, finetune__lr_step=1600)
    var("lw1-ft0.5", layerwise__lr=1.0, finetune__lr=0.5)
    var("long", layerwise__epochs=50, finetune__epochs=100)
    var("ft-step", finetune__epochs=90, finetune__lr_step=2400)
    var("no-dropout", model__p_drop=0.0)
    var("dec-ui280", dec_kw={"update_interval": 280})
    var("dec-lr0.001", dec_kw={"lr": 0.001})
    # Round 5 (two threads or one per job, idle machine): step decay at the end of each
    # phase (157 steps per epoch at batch 64 on 10,000 rows), and batch 32.
    var("decay", layerwise__lr_step=30 * 157, finetune__lr_step=70 * 157)
    var("b32", layerwise__batch_size=32, layerwise__epochs=30, finetune__batch_size=32,
        finetune__epochs=70)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--backend", default=None)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--out", default=None)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    X, y = load_mnist(data_dir=args.data_dir, subset="test", download=False)
    rows = []
    for name, (schedule, dec_kw) in variants().items():
        if args.only and name not in args.only:
            continue
        for seed in args.seeds:
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                m = DEC(10, schedule=schedule, backend=args.backend, random_state=seed, verbose=args.verbose,
                        **dec_kw).fit(X, y)  # y is only recorded (history_), never trained on
            except Exception as exc:  # keep sweeping
                print(json.dumps({"variant": name, "seed": seed, "error": repr(exc)}), flush=True)
                continue
            row = {"variant": name, "seed": seed,
                   "ae_kmeans_acc": round(cluster_accuracy(y, m.init_labels_), 4),
                   "dec_acc": round(cluster_accuracy(y, m.labels_), 4),
                   "dec_nmi": round(nmi(y, m.labels_), 4), "n_iter": m.n_iter_,
                   "pretrain_s": round(m.pretrain_time_, 1), "total_s": round(time.perf_counter() - t0, 1),
                   "cpu_s": round(time.process_time() - c0, 1),
                   "acc_history": [round(a, 4) for a in m.history_["acc"]]}
            rows.append(row)
            print(json.dumps(row), flush=True)
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    sys.exit(main())

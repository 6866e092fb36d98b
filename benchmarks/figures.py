"""The README's figures, from a real DEC fit on the 10,000 MNIST test images.

One command makes them:

    python benchmarks/figures.py --data-dir ../shared/data

It runs the package's own pipeline through the command line, ``dec-np pretrain`` and then
``dec-np fit --autoencoder`` (the autoencoder of one ``dec-np fit``, kept for the "before"
picture; k-means and DEC start from the seed, where one ``dec-np fit`` goes on with the
generator its pretraining left, so the clustering may end elsewhere), in ``--work`` (default
``benchmarks/results/figures/<schedule>-seed<seed>``, "default" resolved to its name; a
finished step is not run again), and draws with
``dec_np.plotting`` into ``--out`` (default ``docs/figures``):

* ``mnist10k_embedding.png``: 2,000 of the points embedded by the autoencoder and by DEC
  (paper Fig. 5);
* ``mnist10k_cluster_examples.png``: each cluster's most confident images (paper Fig. 3), one
  row per cluster, ordered by the digit each cluster matches best;
* ``mnist10k_gradient.png``: |dL/dz_i| against the rank of q_ij at the start of DEC, for the
  largest cluster (paper Fig. 4);
* ``mnist10k_training_curves.png``: DEC's loss, label changes, ACC and NMI per target update.

On two CPU cores the default schedule's fit takes about 5 minutes.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

try:
    import dec_np  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dec_np import cli, plotting  # noqa: E402
from dec_np.checkpoint import load_autoencoder  # noqa: E402
from dec_np.datasets import load_mnist  # noqa: E402
from dec_np.dec import load_dec  # noqa: E402
from dec_np.dec_math import kl_gradients, soft_assignment, target_distribution  # noqa: E402
from dec_np.metrics import best_mapping, cluster_accuracy  # noqa: E402
from dec_np.schedules import default_name  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHAPE = (28, 28)


def fit(args):
    """Pretrain and fit with the command line unless ``--work`` holds the results."""
    work = Path(args.work)
    sae, run = work / "sae.npz", work / "fit"
    common = ["--dataset", "mnist-test", "--seed", str(args.seed), "--schedule", args.schedule]
    if args.data_dir:
        common += ["--data-dir", str(args.data_dir)]
    if not sae.exists():
        work.mkdir(parents=True, exist_ok=True)
        if cli.main(["pretrain", *common, "--out", str(sae)]) != 0:
            raise SystemExit("dec-np pretrain failed")
    if not (run / "model.npz").exists():
        if cli.main(["fit", *common, "--autoencoder", str(sae), "--out", str(run),
                     "--no-figures"]) != 0:
            raise SystemExit("dec-np fit failed")
    return sae, run


def ordered_by_digit(q, y, labels):
    """q's columns reordered so that column c is the cluster matched to digit c (clusters
    matched to no digit after them)."""
    mapping = best_mapping(y, labels)  # cluster -> digit
    order = sorted(range(q.shape[1]), key=lambda j: (mapping.get(j, q.shape[1]), j))
    return q[:, order]


def draw(args, sae_path, run):
    X, y = load_mnist(args.data_dir, subset="test", download=False)
    model = load_dec(run / "model.npz")
    sae = load_autoencoder(sae_path)
    metrics = json.loads((run / "metrics.json").read_text())
    scale = np.float32(model.scale_)
    z0 = np.asarray(sae.encode(X.astype(np.float32) * scale), np.float64)
    z = np.asarray(model.transform(X), np.float64)
    acc0 = cluster_accuracy(y, model.init_labels_)
    acc = cluster_accuracy(y, model.labels_)
    assert abs(acc - metrics["dec"]["acc"]) < 1e-12, "the model is not the fit's"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    written = []

    pick = np.sort(np.random.default_rng(0).choice(len(X), 2000, replace=False))
    path = out / "mnist10k_embedding.png"
    plotting.plot_embedding_stages([z0[pick], z[pick]], y[pick],
                                   [f"autoencoder (AE + k-means ACC {acc0:.3f})",
                                    f"after DEC (ACC {acc:.3f})"], path=path)
    written.append(path)

    path = out / "mnist10k_cluster_examples.png"
    q = ordered_by_digit(np.asarray(model.predict_proba(X)), y, model.labels_)
    plotting.plot_cluster_examples(X, q, SHAPE, n_per_cluster=10, path=path)
    written.append(path)

    # paper Fig. 4 at the start of DEC: the autoencoder's z and the k-means centres
    mu0 = np.asarray(model.init_centers_, np.float64)
    q0 = soft_assignment(z0, mu0, model.alpha)
    dz, _ = kl_gradients(z0, mu0, target_distribution(q0), q0, model.alpha)
    j = int(np.bincount(model.init_labels_).argmax())
    members = model.init_labels_ == j
    path = out / "mnist10k_gradient.png"
    fig = plotting.plot_gradient_magnitude(np.linalg.norm(dz[members], axis=1), q0[members, j],
                                           X[members], SHAPE)
    digit = best_mapping(y, model.init_labels_).get(j, j)
    fig.suptitle(f"|dL/dz_i| against the rank of q_ij at the start of DEC: the largest "
                 f"cluster ({members.sum()} points, mostly {digit}s; paper Fig. 4)", fontsize=10)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    written.append(path)

    path = out / "mnist10k_training_curves.png"
    plotting.plot_training_curves(model.history_, path=path)
    written.append(path)

    print(f"MNIST test set, seed {args.seed}, schedule {args.schedule}: AE + k-means ACC "
          f"{acc0:.4f}, DEC ACC {acc:.4f}, {model.n_iter_} DEC iterations")
    for p in written:
        print(f"wrote {p} ({p.stat().st_size / 1024:.0f} KB)")
    return written


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=None, help="folder holding mnist/ (default: DEC_NP_DATA)")
    ap.add_argument("--schedule", default="default", help="a name in dec_np.schedules")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--work", default=None, help="where the pretrained autoencoder and the fit "
                    "are kept (default benchmarks/results/figures/<schedule>-seed<seed>)")
    ap.add_argument("--out", default=str(ROOT / "docs" / "figures"))
    args = ap.parse_args(argv)
    if args.work is None:
        name = default_name(True) if args.schedule == "default" else args.schedule  # images
        args.work = str(ROOT / "benchmarks" / "results" / "figures" / f"{name}-seed{args.seed}")
    sae, run = fit(args)
    draw(args, sae, run)
    return 0


if __name__ == "__main__":
    sys.exit(main())

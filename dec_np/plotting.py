"""The paper's figures (Fig. 3, 4, 5) and training diagnostics, drawn with matplotlib.

Every function takes host or device arrays (they are copied with ``asnumpy``), returns the
:class:`matplotlib.figure.Figure`, and also writes it to ``path`` (PNG) when one is given.
Nothing here computes DEC itself: callers pass q, z, gradients or histories.
"""
from __future__ import annotations

from pathlib import Path

# No backend is chosen here: matplotlib takes the inline one in a notebook, a window where
# there is a display, and Agg (files only) where there is neither.
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from .backend import asnumpy
from .metrics import best_mapping, cluster_accuracy

__all__ = ["pca_2d", "plot_cluster_examples", "plot_gradient_magnitude", "plot_embedding_stages",
           "plot_training_curves", "plot_confusion", "plot_select_k", "plot_reconstructions",
           "plot_loss_history"]


def _finish(fig, path, dpi=100):
    """Save ``fig`` to ``path`` (parents created) if given, close it for pyplot, return it."""
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(fig)  # the Figure object stays usable; pyplot just stops tracking it
    return fig


def _image(ax, x, image_shape, vmin=None, vmax=None):
    """Draw one flattened image in grey on ``ax`` without ticks (grey range vmin..vmax)."""
    ax.imshow(np.asarray(x).reshape(image_shape), cmap="gray_r", interpolation="nearest",
              vmin=vmin, vmax=vmax)
    ax.set_xticks([])
    ax.set_yticks([])


def pca_2d(Z):
    """Project Z (N, d) on its first two principal components, via SVD of the centred data.

    Parameters
    ----------
    Z : ndarray of shape (N, d)
        Points, on the host or the device (copied to the host in float64).

    Returns
    -------
    ndarray of shape (N, 2)
        The coordinates on the first two principal axes; with d == 1 the second is 0.
    """
    Z = asnumpy(Z).astype(np.float64)
    Zc = Z - Z.mean(axis=0)
    _, _, Vt = np.linalg.svd(Zc, full_matrices=False)
    out = Zc @ Vt[:2].T
    return out if out.shape[1] == 2 else np.hstack([out, np.zeros((len(out), 1))])


def plot_cluster_examples(X, q, image_shape, n_per_cluster=10, path=None):
    """Paper Fig. 3: for each cluster j, the images with the highest q_ij among its members.

    Parameters
    ----------
    X : ndarray of shape (N, prod(image_shape))
        Images, one flattened per row.
    q : ndarray of shape (N, k)
        Soft assignments; point i belongs to cluster argmax_j q_ij.
    image_shape : tuple (h, w)
        Height and width of one image; h * w is the number of columns of the images.
    n_per_cluster : int, default 10
        Images per row; clusters with fewer members leave blanks.
    path : str or Path, optional
        Also save the figure there as a PNG (parent folders are created).

    Returns
    -------
    matplotlib.figure.Figure
        The figure (closed for pyplot, so it is not shown twice; still usable).
    """
    X, q = asnumpy(X), asnumpy(q)
    k = q.shape[1]
    labels = q.argmax(axis=1)
    height = 0.8 * k + 0.7
    fig, axes = plt.subplots(k, n_per_cluster, figsize=(0.8 * n_per_cluster + 0.8, height),
                             squeeze=False)
    for j in range(k):
        members = np.flatnonzero(labels == j)
        top = members[np.argsort(-q[members, j])][:n_per_cluster]
        for c in range(n_per_cluster):
            ax = axes[j, c]
            if c < len(top):
                _image(ax, X[top[c]], image_shape)
            else:
                ax.axis("off")
        axes[j, 0].set_ylabel(f"{j}\n(n={len(members)})", rotation=0, ha="right", va="center",
                              fontsize=8)
        axes[j, 0].axis("on")
        axes[j, 0].set_xticks([])
        axes[j, 0].set_yticks([])
    fig.suptitle("Top images by confidence q_ij, one row per cluster\n(left: most confident)",
                 fontsize=10)
    fig.subplots_adjust(wspace=0.05, hspace=0.05, top=1 - 0.6 / height)
    return _finish(fig, path)


def plot_gradient_magnitude(dz_norm, q_max, images, image_shape, path=None,
                            percentiles=(0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100)):
    """Paper Fig. 4: ``|dL/dz_i|`` against the rank of q_ij, with images at chosen percentiles.

    The paper uses it to examine DEC's premise that confident assignments are mostly right
    (it reports that the points with large q_ij contribute most of the gradient); the
    images along the top show how the points grow ambiguous as q_ij falls.

    Parameters
    ----------
    dz_norm : ndarray of shape (N,)
        ``|dL/dz_i|`` of each point (e.g. the norm of a row of ``kl_gradients``' dz).
    q_max : ndarray of shape (N,)
        Each point's soft assignment q_ij to the cluster j studied (sorting key, high first).
    images : ndarray of shape (N, prod(image_shape))
        The points' images, same order as ``dz_norm``.
    image_shape : tuple (h, w)
        Height and width of one image; h * w is the number of columns of the images.
    path : str or Path, optional
        Also save the figure there as a PNG (parent folders are created).
    percentiles : sequence of float
        Ranks (in percent, 0 = most confident) whose image is shown above the curve.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (closed for pyplot, so it is not shown twice; still usable).
    """
    dz_norm, q_max, images = asnumpy(dz_norm), asnumpy(q_max), asnumpy(images)
    order = np.argsort(-q_max, kind="stable")
    n = len(order)
    rank = 100.0 * np.arange(n) / max(n - 1, 1)
    fig = plt.figure(figsize=(8, 4.6))
    ax = fig.add_axes([0.1, 0.12, 0.85, 0.58])
    ax.plot(rank, dz_norm[order], ".", ms=3, alpha=0.6, label="|dL/dz_i| per point")
    w = max(n // 25, 1)  # running mean over ~4% of the points, to show the trend
    if n > 3 * w > 3:
        trend = np.convolve(dz_norm[order], np.ones(w) / w, mode="valid")
        ax.plot(rank[w // 2:w // 2 + len(trend)], trend, "r-", lw=1.5, label=f"running mean ({w})")
    ax.set_xlabel("rank of q_ij, percent (0 = most confident)")
    ax.set_ylabel("|dL/dz_i|")
    ax.set_xlim(-2, 102)
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    m = len(percentiles)
    for t, pct in enumerate(percentiles):
        i = order[int(round(pct / 100.0 * (n - 1)))]
        iax = fig.add_axes([0.1 + 0.85 * (t + 0.1) / m, 0.74, 0.85 * 0.8 / m, 0.16])
        _image(iax, images[i], image_shape)
        iax.set_title(f"{pct:g}%", fontsize=8)
    fig.suptitle("Gradient magnitude against soft-assignment rank (paper Fig. 4)", fontsize=11)
    return _finish(fig, path)


def plot_embedding_stages(Z_list, y, titles, path=None, method="pca"):
    """Paper Fig. 5: the embedded points at several stages, in 2-D, coloured by true label.

    Parameters
    ----------
    Z_list : list of ndarray, each of shape (N, d)
        The same N points embedded at successive stages (e.g. AE, then DEC iterations).
    y : ndarray of shape (N,)
        True labels (colours only).
    titles : list of str
        One title per stage, shown above its panel.
    path : str or Path, optional
        Also save the figure there as a PNG (parent folders are created).
    method : "pca"
        Each stage is projected on its own first two principal components (SVD).

    Returns
    -------
    matplotlib.figure.Figure
        The figure (closed for pyplot, so it is not shown twice; still usable).
    """
    if method != "pca":
        raise ValueError(f"method must be 'pca', got {method!r}")
    y = asnumpy(y)
    classes = np.unique(y)
    cmap = plt.get_cmap("tab10" if len(classes) <= 10 else "tab20")
    m = len(Z_list)
    fig, axes = plt.subplots(1, m, figsize=(3.4 * m + 1.2, 3.6), squeeze=False)
    for ax, Z, title in zip(axes[0], Z_list, titles):
        P = pca_2d(Z)
        for c_i, c in enumerate(classes):
            sel = y == c
            ax.scatter(P[sel, 0], P[sel, 1], s=3, color=cmap(c_i % cmap.N), label=str(c),
                       alpha=0.7, linewidths=0)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("PC 1")
        ax.set_ylabel("PC 2")
        ax.set_xticks([])
        ax.set_yticks([])
    handles, labels = axes[0, -1].get_legend_handles_labels()
    fig.legend(handles, labels, title="true label", loc="center right", markerscale=4,
               fontsize=8, frameon=False)
    fig.suptitle("Embedded points in 2-D (PCA), coloured by true label", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1 - 0.9 / (3.4 * m + 1.2), 0.95))
    return _finish(fig, path)


def plot_training_curves(history, path=None):
    """DEC's progress from ``DEC.history_``: loss, fraction of changed labels, ACC and NMI.

    Parameters
    ----------
    history : dict
        "iteration", "loss", "delta_label", and optionally "acc" and "nmi" (lists of equal
        length, one entry per target update).
    path : str or Path, optional
        Also save the figure there as a PNG (parent folders are created).

    Returns
    -------
    matplotlib.figure.Figure
        The figure (closed for pyplot, so it is not shown twice; still usable).
    """
    it = np.asarray(history["iteration"])
    has_acc = "acc" in history and len(history["acc"]) == len(it)
    n = 3 if has_acc else 2
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 3.4))
    axes[0].plot(it, history["loss"], "o-", ms=3, label="KL(P||Q) per point")
    axes[0].set_ylabel("loss")
    axes[0].set_title("Clustering loss")
    delta = np.asarray(history["delta_label"], dtype=float)
    axes[1].plot(it[1:], np.maximum(delta[1:], 1e-5), "o-", ms=3, color="C1",
                 label="changed labels")
    axes[1].set_yscale("log")
    axes[1].set_ylabel("fraction of points")
    axes[1].set_title("Labels changed since the last update")
    if has_acc:
        axes[2].plot(it, history["acc"], "o-", ms=3, color="C2", label="ACC")
        axes[2].plot(it, history["nmi"], "s-", ms=3, color="C3", label="NMI")
        axes[2].set_ylabel("score")
        axes[2].set_title("Accuracy and NMI (true labels)")
    for ax in axes:
        ax.set_xlabel("DEC iteration")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return _finish(fig, path)


def plot_confusion(y_true, y_pred, path=None):
    """Confusion matrix after the Hungarian cluster-to-class mapping used by ACC.

    Rows are true classes, columns the clusters relabelled with their matched class
    (unmatched clusters are put after the classes, labelled "c<cluster>").

    Parameters
    ----------
    y_true : ndarray of shape (N,)
        True class labels.
    y_pred : ndarray of shape (N,)
        Cluster labels.
    path : str or Path, optional
        Also save the figure there as a PNG (parent folders are created).

    Returns
    -------
    matplotlib.figure.Figure
        The figure (closed for pyplot, so it is not shown twice; still usable).
    """
    y_true, y_pred = asnumpy(y_true), asnumpy(y_pred)
    mapping = best_mapping(y_true, y_pred)
    classes = list(np.unique(y_true))
    clusters = list(np.unique(y_pred))
    extra = [c for c in clusters if c not in mapping]
    cols = [(cl, str(cl)) for cl in classes] + [(None, f"c{c}") for c in extra]
    inv = {v: k for k, v in mapping.items()}
    table = np.zeros((len(classes), len(cols)), dtype=np.int64)
    for r, cl in enumerate(classes):
        in_row = y_true == cl
        for c, (target, _) in enumerate(cols):
            cluster = inv.get(target) if target is not None else extra[c - len(classes)]
            if cluster is not None:
                table[r, c] = np.sum(in_row & (y_pred == cluster))
    size = 0.45 * max(len(cols), 6) + 1.5
    fig, ax = plt.subplots(figsize=(size + 0.8, 0.45 * max(len(classes), 6) + 1.5))
    im = ax.imshow(table, cmap="Blues")
    for r in range(table.shape[0]):
        for c in range(table.shape[1]):
            v = table[r, c]
            ax.text(c, r, str(v), ha="center", va="center", fontsize=7,
                    color="white" if v > 0.6 * table.max() else "black")
    ax.set_xticks(range(len(cols)), [name for _, name in cols])
    ax.set_yticks(range(len(classes)), [str(c) for c in classes])
    ax.set_xlabel("cluster (relabelled by the best matching)")
    ax.set_ylabel("true class")
    acc = cluster_accuracy(y_true, y_pred)
    ax.set_title(f"Confusion after Hungarian matching, ACC = {acc:.3f}", fontsize=10)
    fig.colorbar(im, ax=ax, shrink=0.8, label="points")
    fig.tight_layout()
    return _finish(fig, path)


def plot_select_k(ks, G, nmi, path=None):
    """Choosing k (paper Fig. 7): generalizability G = L_train / L_validation and NMI against k.

    Parameters
    ----------
    ks : sequence of int
        The numbers of clusters tried (the x axis).
    G : sequence of float
        The generalizability L_train / L_validation of each k (left axis).
    nmi : sequence of float
        The NMI of each k against the true labels (right axis).
    path : str or Path, optional
        Also save the figure there as a PNG (parent folders are created).

    Returns
    -------
    matplotlib.figure.Figure
        The figure (closed for pyplot, so it is not shown twice; still usable).
    """
    ks, G, nmi = np.asarray(ks), np.asarray(G, dtype=float), np.asarray(nmi, dtype=float)
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    l1 = ax.plot(ks, G, "o-", color="C0", label="G = L_train / L_validation")
    ax.set_xlabel("number of clusters k")
    ax.set_ylabel("generalizability G", color="C0")
    ax2 = ax.twinx()
    l2 = ax2.plot(ks, nmi, "s--", color="C3", label="NMI")
    ax2.set_ylabel("NMI", color="C3")
    ax.set_xticks(ks)
    ax.grid(alpha=0.3)
    # below the axes: inside, it would hide points whatever the data
    ax.legend(l1 + l2, [l.get_label() for l in l1 + l2], fontsize=8, loc="upper center",
              bbox_to_anchor=(0.5, -0.18), ncol=2, frameon=False)
    ax.set_title("Choosing the number of clusters", fontsize=10)
    fig.tight_layout()
    return _finish(fig, path)


def plot_reconstructions(X, X_hat, image_shape, path=None, n=10, row_labels=("input", "recon."),
                         title="Autoencoder reconstructions"):
    """Original images (top row) above the autoencoder's reconstructions (bottom row).

    Parameters
    ----------
    X, X_hat : ndarray of shape (N, prod(image_shape))
        The first ``n`` rows are shown.
    image_shape : tuple (h, w)
        Height and width of one image; h * w is the number of columns of the images.
    path : str or Path, optional
        Also save the figure there as a PNG (parent folders are created).
    n : int, default 10
        Number of images (columns) shown, at most len(X).
    row_labels : pair of str
        Labels of the two rows.
    title : str
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (closed for pyplot, so it is not shown twice; still usable).
    """
    X, X_hat = asnumpy(X), asnumpy(X_hat)
    n = min(n, len(X))
    fig, axes = plt.subplots(2, n, figsize=(0.9 * n + 0.6, 2.4), squeeze=False)
    for c in range(n):
        # one grey scale per column, the input's, so a reconstruction's small negative or
        # overshooting values do not stretch its own scale and grey its background
        lo, hi = float(X[c].min()), float(X[c].max())
        _image(axes[0, c], X[c], image_shape, lo, hi)
        _image(axes[1, c], X_hat[c], image_shape, lo, hi)
    axes[0, 0].set_ylabel(row_labels[0], fontsize=9)
    axes[1, 0].set_ylabel(row_labels[1], fontsize=9)
    fig.suptitle(title, fontsize=10)
    fig.subplots_adjust(wspace=0.05, hspace=0.05)
    return _finish(fig, path)


def plot_loss_history(history, path=None, ylabel="mean loss per epoch", title=None):
    """Loss per epoch of several runs or stages, e.g. ``StackedAutoencoder.history_``.

    Parameters
    ----------
    history : dict of name -> sequence of float, or one sequence
        ``{"layer0": [...], ..., "finetune": [...]}`` or any named runs (one line each).
    path : str or Path, optional
        Also save the figure there as a PNG (parent folders are created).
    ylabel : str
        Label of the y axis.
    title : str, optional
        The figure's title; default "Training loss".

    Returns
    -------
    matplotlib.figure.Figure
        The figure (closed for pyplot, so it is not shown twice; still usable).
    """
    if not isinstance(history, dict):
        history = {"loss": history}
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    positive = True
    for name, losses in history.items():
        losses = np.asarray(losses, dtype=float)
        positive &= bool(np.all(losses > 0))
        ax.plot(np.arange(1, len(losses) + 1), losses, "o-" if len(losses) < 30 else "-", ms=3,
                label=name)
    if positive:
        ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_title(title or "Training loss", fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _finish(fig, path)

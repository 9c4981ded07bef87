"""The plots a learner wants for each task (matplotlib and scikit-learn: the ``viz`` extra).

Boxes drawn on canvases (localisation, detection), masks overlaid on canvases
(segmentation), a t-SNE of Siamese embeddings with seen and unseen classes,
and image pairs with their embedding distances. Figures are plain matplotlib
``Figure`` objects (no pyplot state) written atomically as PNGs; matplotlib and
scikit-learn are imported only when drawing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from cnnkit._io import atomic_write
from cnnkit.datasets import CanvasBatch
from cnnkit.models import Model
from cnnkit.tasks._detect import Detector
from cnnkit.tasks._localize import predict_localizer
from cnnkit.tasks._segment import predict_masks
from cnnkit.tasks._siamese import embed

__all__ = ["plot_boxes", "plot_masks", "plot_pairs", "plot_task", "plot_tsne_embeddings"]

_COLOURS = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f",
]  # fmt: skip


def _figure(rows: int, cols: int, size: float = 2.4) -> tuple[Any, np.ndarray]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(cols * size, rows * size + 0.4))
    axes = np.atleast_2d(fig.subplots(rows, cols, squeeze=False))
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    return fig, axes


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    atomic_write(Path(path), lambda tmp: fig.savefig(tmp, dpi=100, format="png"))
    return Path(path)


def _rectangle(ax: Any, box: np.ndarray, colour: str, dashed: bool = False) -> None:
    from matplotlib.patches import Rectangle

    x1, y1, x2, y2 = box
    ax.add_patch(
        Rectangle(
            (x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, ec=colour, lw=1.5,
            ls="--" if dashed else "-",
        )
    )  # fmt: skip


def plot_boxes(
    images: np.ndarray,
    predictions: list[dict[str, np.ndarray]],
    truth: CanvasBatch,
    path: Path,
    title: str,
    n: int = 8,
    min_score: float = 0.0,
) -> Path:
    """Canvases with true boxes (dashed white) and predicted ones (coloured, ``label score``).

    Only predictions scoring at least ``min_score`` are drawn (default 0.0: all);
    the title says so when it is above 0.
    """
    fig, axes = _figure(2, (n + 1) // 2)
    for i, ax in enumerate(axes.flat[:n]):
        ax.imshow(images[i, ..., 0], cmap="gray", vmin=0, vmax=255)
        for box in truth.boxes[i, : truth.counts[i]]:
            _rectangle(ax, box, "white", dashed=True)
        pred = predictions[i]
        for box, score, label in zip(pred["boxes"], pred["scores"], pred["labels"], strict=True):
            if score < min_score:
                continue
            colour = _COLOURS[int(label) % 10]
            _rectangle(ax, box, colour)
            ax.text(box[0], box[1] - 1, f"{label} {score:.2f}", color=colour, fontsize=8)
    fig.suptitle(title if min_score <= 0 else f"{title} (score >= {min_score:g})")
    return _save(fig, path)


def plot_masks(images: np.ndarray, true: np.ndarray, pred: np.ndarray, path: Path, title: str):
    """Rows of canvas / true mask / predicted mask overlaid (class colour, background clear)."""
    from matplotlib.colors import ListedColormap

    cmap = ListedColormap([(0, 0, 0, 0), *_COLOURS])
    n = min(6, len(images))
    fig, axes = _figure(3, n)
    for i in range(n):
        for row, (mask, name) in enumerate([(None, "canvas"), (true, "true"), (pred, "predicted")]):
            ax = axes[row, i]
            ax.imshow(images[i, ..., 0], cmap="gray", vmin=0, vmax=255)
            if mask is not None:
                ax.imshow(mask[i], cmap=cmap, vmin=0, vmax=10, alpha=0.75, interpolation="none")
            if i == 0:
                ax.set_ylabel(name)
    fig.suptitle(title + "  (colour = digit class)")
    return _save(fig, path)


def plot_tsne_embeddings(
    embeddings: np.ndarray, labels: np.ndarray, path: Path, title: str, seen=(0, 1, 2, 3, 4)
) -> Path:
    """t-SNE (scikit-learn) of embeddings; seen classes as dots, unseen as crosses."""
    from sklearn.manifold import TSNE

    points = TSNE(n_components=2, init="pca", random_state=0, perplexity=30).fit_transform(
        embeddings
    )
    fig, axes = _figure(1, 1, size=6)
    ax = axes[0, 0]
    for c in np.unique(labels):
        at = labels == c
        marker = "o" if c in seen else "x"
        ax.scatter(*points[at].T, s=6, marker=marker, color=_COLOURS[int(c) % 10], label=str(c))
    ax.legend(title="class (x = unseen)", fontsize=7, markerscale=2, loc="best")
    ax.set_title(title)
    return _save(fig, path)


def plot_pairs(
    images: np.ndarray, embeddings: np.ndarray, labels: np.ndarray, path: Path, title: str
) -> Path:
    """Four same-class and four different-class pairs with their embedding distances."""
    rng = np.random.default_rng(0)
    pairs = []
    while len(pairs) < 8:
        i, j = rng.integers(0, len(labels), 2)
        same = labels[i] == labels[j]
        if i != j and same == (len(pairs) < 4):
            pairs.append((i, j))
    fig, axes = _figure(2, 8, size=1.6)
    for col, (i, j) in enumerate(pairs):
        d = float(np.linalg.norm(embeddings[i] - embeddings[j]))
        for row, k in enumerate((i, j)):
            axes[row, col].imshow(images[k, ..., 0], cmap="gray")
        verdict = "same" if labels[i] == labels[j] else "different"
        axes[0, col].set_title(f"{verdict}\nd = {d:.2f}", fontsize=8)
    fig.suptitle(title)
    return _save(fig, path)


def plot_task(task: str, model: Model, test: Any, out: Path) -> list[Path]:
    """The plots of one task (as in ``cnnkit.tasks.TASKS``) for a trained model, in ``out``."""
    out = Path(out)
    if task == "localize":
        labels, scores, boxes = predict_localizer(model, test.images[:8])
        pred = [
            {"boxes": boxes[i : i + 1], "scores": scores[i : i + 1], "labels": labels[i : i + 1]}
            for i in range(8)
        ]
        return [plot_boxes(test.images, pred, test, out / "boxes.png", "localisation")]
    if task == "detect":
        pred = Detector(model).predict(test.images[:8])
        # mAP scores every detection; the picture shows the ones a user would keep.
        title = "CenterNet detections"
        return [plot_boxes(test.images, pred, test, out / "boxes.png", title, min_score=0.3)]
    if task.startswith("segment"):
        pred = predict_masks(model, test.images[:6])
        return [plot_masks(test.images, test.masks, pred, out / "masks.png", task)]
    x, y = test
    keep = np.random.default_rng(0).permutation(len(y))[:2000]
    e = embed(model, x[keep])
    return [
        plot_tsne_embeddings(e, y[keep], out / "tsne.png", f"{task}: t-SNE of test embeddings"),
        plot_pairs(x[keep], e, y[keep], out / "pairs.png", f"{task}: pairs and distances"),
    ]

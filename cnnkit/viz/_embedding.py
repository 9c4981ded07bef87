"""t-SNE (or PCA) maps of learned features: do images of one class land together?

:func:`embed_features` reduces ``(N, D)`` features to ``(N, 2)`` points with
scikit-learn; :func:`plot_embedding` scatters them coloured by class; and
:func:`plot_tsne` does the whole path for a model and labelled images.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from cnnkit._errors import invalid_value, unknown_name
from cnnkit.layers._args import positive_int
from cnnkit.viz._plotting import finish_figure, new_figure, require
from cnnkit.viz._probe import layer_features

__all__ = ["embed_features", "plot_embedding", "plot_tsne"]

_METHODS = ("pca", "tsne")
#: t-SNE runs on at most this many PCA components (van der Maaten's advice: less
#: noise and much faster neighbour search on wide features).
_TSNE_PCA_DIMS = 50


def embed_features(
    features: Any,
    method: str = "tsne",
    perplexity: float = 30.0,
    seed: int = 0,
    *,
    n_threads: int = 1,
) -> np.ndarray:
    """Reduce features to 2-D points.

    Args:
        features: ``(N, D)`` array (more axes are flattened per sample).
        method: ``"tsne"`` (default; scikit-learn's Barnes-Hut t-SNE, PCA
            initialisation, after PCA to 50 dimensions when ``D > 50``) or ``"pca"``
            (the two leading principal components).
        perplexity: t-SNE's effective number of neighbours, ``0 < perplexity < N``.
            Default 30.
        seed: Random seed; the same seed gives the same points.
        n_threads: OpenMP threads for t-SNE's gradient. Default 1: reproducible to the
            bit, and immune to oversubscription (on a busy 2-core machine 2 threads
            made 2,000 points take 73 s instead of 18 s). Raise it for large N on an
            idle many-core machine.

    Returns:
        ``(N, 2)`` float32 points.

    Raises:
        ValueError: unknown method, fewer than 2 samples (3 for t-SNE), non-finite
            features, or a perplexity outside ``(0, N)``.
    """
    if method not in _METHODS:
        raise unknown_name("embedding method", method, _METHODS, argument="method")
    positive_int(n_threads, "n_threads", "embed_features")
    x = np.asarray(features, dtype=np.float64)
    if x.ndim < 2:
        raise invalid_value(
            "embed_features: `features` must be (N, D): one row per sample.",
            received={"shape": x.shape},
        )
    x = x.reshape(len(x), -1)
    least = 3 if method == "tsne" else 2
    if len(x) < least:
        raise invalid_value(
            f"embed_features: {method} needs at least {least} samples.",
            received={"shape": x.shape},
        )
    if not np.isfinite(x).all():
        raise invalid_value(
            "embed_features: `features` contain NaN or infinity.",
            received={"non-finite values": int((~np.isfinite(x)).sum())},
        )
    decomposition = require("sklearn.decomposition", "embed_features")
    if method == "pca":
        pca = decomposition.PCA(min(2, *x.shape), random_state=seed)
        return _pad_columns(pca.fit_transform(x))
    if not 0 < perplexity < len(x):
        raise invalid_value(
            "embed_features: `perplexity` must be between 0 and the number of samples.",
            expected=f"0 < perplexity < {len(x)}",
            received={"perplexity": perplexity},
        )
    if min(x.shape) > _TSNE_PCA_DIMS:
        x = decomposition.PCA(_TSNE_PCA_DIMS, random_state=seed).fit_transform(x)
    manifold = require("sklearn.manifold", "embed_features")
    limits = require("threadpoolctl", "embed_features").threadpool_limits
    tsne = manifold.TSNE(2, perplexity=perplexity, init="pca", random_state=seed)
    with limits(limits=n_threads, user_api="openmp"):
        return tsne.fit_transform(x).astype(np.float32)


def _pad_columns(points: np.ndarray) -> np.ndarray:
    # PCA of 1-D features (or of 2 samples) has one component; the second coordinate is 0.
    out = np.zeros((len(points), 2), dtype=np.float32)
    out[:, : points.shape[1]] = points
    return out


def _class_indices(labels: Any, n: int, who: str) -> np.ndarray:
    y = np.asarray(labels)
    if y.ndim == 2 and y.shape[1] > 1:  # one-hot rows
        y = y.argmax(axis=1)
    y = y.reshape(-1)
    if len(y) != n:
        raise invalid_value(
            f"{who}: one label per sample is needed.", received={"len(labels)": len(y), "N": n}
        )
    integral = np.issubdtype(y.dtype, np.integer) or (
        np.issubdtype(y.dtype, np.floating) and bool(np.all(np.mod(y, 1) == 0))
    )
    if not integral or (y.size and y.min() < 0):
        raise invalid_value(
            f"{who}: `labels` must be class indices (integers >= 0) or one-hot rows.",
            received={"labels.dtype": str(y.dtype)},
        )
    return y.astype(np.int64)


def plot_embedding(
    points: Any,
    labels: Any,
    class_names: Sequence[str] | None = None,
    path: str | os.PathLike[str] | None = None,
    *,
    title: str | None = None,
) -> Any:
    """Scatter 2-D points coloured by class, with a legend.

    Args:
        points: ``(N, 2)`` array, e.g. from :func:`embed_features`.
        labels: ``(N,)`` class indices or ``(N, classes)`` one-hot rows.
        class_names: Legend text per class index; default the indices.
        path: Where to save the figure as a PNG (atomic write). Default: not saved.
        title: Figure title. Default ``"N points, C classes"``.

    Returns:
        The matplotlib Figure.
    """
    who = "plot_embedding"
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 2:
        raise invalid_value(
            f"{who}: `points` must have the shape (N, 2).", received={"shape": p.shape}
        )
    y = _class_indices(labels, len(p), who)
    classes = np.unique(y)
    if class_names is not None and len(class_names) <= int(classes.max(initial=-1)):
        raise invalid_value(
            f"{who}: `class_names` must name every class index that occurs.",
            expected=f"at least {int(classes.max()) + 1} names",
            received={"len(class_names)": len(class_names)},
        )
    colormaps = require("matplotlib", "plot_embedding").colormaps
    cmap = colormaps["tab10" if len(classes) <= 10 else "tab20" if len(classes) <= 20 else "turbo"]
    colours = cmap(np.linspace(0, 1, len(classes))) if len(classes) > 20 else cmap.colors
    fig = new_figure((7.0, 6.0), path)
    ax = fig.add_subplot()
    for i, c in enumerate(classes):
        mask = y == c
        name = str(c) if class_names is None else str(class_names[c])
        ax.scatter(
            p[mask, 0], p[mask, 1], s=6, alpha=0.7, color=colours[i], label=name, linewidths=0
        )
    ax.legend(
        markerscale=3,
        fontsize=8,
        loc="center left",
        bbox_to_anchor=(1.0, 0.5),
        frameon=False,
        title="class",
    )
    ax.set_title(title or f"{len(p)} points, {len(classes)} classes", fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    return finish_figure(fig, path)


def plot_tsne(
    model: Any,
    x: Any,
    y: Any,
    layer: Any = None,
    *,
    method: str = "tsne",
    perplexity: float = 30.0,
    seed: int = 0,
    n_threads: int = 1,
    batch_size: int = 256,
    class_names: Sequence[str] | None = None,
    path: str | os.PathLike[str] | None = None,
) -> Any:
    """Embed a model's learned features of ``x`` in 2-D and scatter them by class ``y``.

    Args:
        model: A trained cnnkit model.
        x: Images ``(N, H, W, C)`` (``(N, H, W)`` for one-channel models),
            preprocessed as for training.
        y: ``(N,)`` class indices or one-hot rows.
        layer: Layer whose output is embedded. Default: the features the final
            classifier reads (the penultimate layer's output); see
            :func:`cnnkit.viz.layer_features`.
        method, perplexity, seed, n_threads: As :func:`embed_features`.
        batch_size: Images per forward pass. Default 256.
        class_names, path: As :func:`plot_embedding`.

    Returns:
        The matplotlib Figure.
    """
    features = layer_features(model, x, layer, batch_size=batch_size)
    labels = _class_indices(y, len(features), "plot_tsne")
    points = embed_features(features, method, perplexity, seed, n_threads=n_threads)
    where = "penultimate features" if layer is None else f"layer {layer!r}"
    title = (
        f"{'t-SNE' if method == 'tsne' else 'PCA'} of {getattr(model, 'name', 'model')} "
        f"{where} ({features.shape[1]}-D), {len(features)} images"
    )
    return plot_embedding(points, labels, class_names, path, title=title)

"""Confusion matrix: counts of (true class, predicted class), and its PNG.

matplotlib is imported only inside :func:`plot_confusion_matrix` (the ``viz``
extra), with the non-interactive Agg backend.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cnnkit._errors import invalid_value
from cnnkit.viz._plotting import save_and_close

__all__ = ["confusion_matrix", "plot_confusion_matrix"]


def _labels(values: Any, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] > 1:  # one-hot rows or class scores
        array = array.argmax(axis=1)
    elif array.ndim == 2 and np.issubdtype(array.dtype, np.floating):  # one sigmoid column
        array = (array > 0.5).astype(np.int64)
    array = array.reshape(-1)
    numeric = np.issubdtype(array.dtype, np.number) and not np.issubdtype(array.dtype, bool)
    whole = numeric and bool(np.all(np.mod(array, 1) == 0))
    if array.size and (not whole or array.min() < 0):
        raise invalid_value(
            f"confusion_matrix: `{name}` must hold class indices (integers >= 0), "
            "one-hot rows or per-class scores.",
            received={f"{name}.dtype": str(array.dtype)},
        )
    return array.astype(np.int64)


def confusion_matrix(y_true: Any, y_pred: Any, num_classes: int | None = None) -> np.ndarray:
    """``(classes, classes)`` int64 counts: row = true class, column = predicted class.

    Args:
        y_true: Class indices ``(N,)`` or one-hot ``(N, classes)``.
        y_pred: Class indices ``(N,)``, scores/probabilities ``(N, classes)`` (argmax
            taken), or one sigmoid column ``(N, 1)`` (threshold 0.5).
        num_classes: Matrix size; default ``max(label) + 1``.
    """
    t, p = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if t.shape != p.shape:
        raise invalid_value(
            "confusion_matrix: `y_true` and `y_pred` must have the same number of samples.",
            received={"len(y_true)": t.size, "len(y_pred)": p.size},
        )
    seen = int(max(t.max(initial=-1), p.max(initial=-1))) + 1
    n = seen if num_classes is None else int(num_classes)
    if n < seen:
        raise invalid_value(
            "confusion_matrix: a label is >= `num_classes`.",
            expected=f"num_classes >= {seen}",
            received={"num_classes": num_classes},
        )
    # One bincount over the flattened (true, pred) pair index: no Python loop per sample.
    return np.bincount(t * n + p, minlength=n * n).reshape(n, n)


def plot_confusion_matrix(
    matrix: Any,
    path: str | os.PathLike[str],
    *,
    class_names: Sequence[str] | None = None,
    title: str | None = None,
) -> Path:
    """Draw a confusion matrix (counts and row percentages) and save a PNG atomically.

    Args:
        matrix: Square counts from :func:`confusion_matrix`.
        path: Where the PNG goes.
        class_names: Tick labels; default ``0, 1, ...``.
        title: Figure title; the accuracy is appended.

    Returns:
        The path of the PNG.
    """
    cm = np.asarray(matrix)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.size == 0:
        raise invalid_value(
            "plot_confusion_matrix: `matrix` must be a non-empty square array of counts.",
            received={"matrix.shape": cm.shape},
        )
    n = cm.shape[0]
    names = [str(i) for i in range(n)] if class_names is None else [str(c) for c in class_names]
    if len(names) != n:
        raise invalid_value(
            "plot_confusion_matrix: one class name per row is needed.",
            received={"len(class_names)": len(names), "classes": n},
        )
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    rows = cm.sum(axis=1, keepdims=True)
    share = np.divide(cm, rows, out=np.zeros(cm.shape, float), where=rows > 0)
    accuracy = np.trace(cm) / max(1, cm.sum())
    size = 2.5 + 0.6 * n
    fig, ax = plt.subplots(figsize=(size + 1, size))
    image = ax.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of the true class")
    ax.set_xticks(range(n), names, rotation=45 if n > 4 else 0, ha="right" if n > 4 else "center")
    ax.set_yticks(range(n), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if n <= 20:  # beyond that the numbers no longer fit in the cells
        for (i, j), count in np.ndenumerate(cm):
            color = "white" if share[i, j] > 0.5 else "black"
            ax.text(j, i, f"{count}\n{share[i, j]:.0%}", ha="center", va="center", color=color)
    heading = f"accuracy {accuracy:.1%} ({np.trace(cm)}/{cm.sum()})"
    ax.set_title(f"{title}\n{heading}" if title else heading)
    fig.tight_layout()
    return save_and_close(fig, path)

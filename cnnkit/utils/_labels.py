"""Label encoding: integer class labels to one-hot rows, as ``keras.utils.to_categorical``."""

from __future__ import annotations

from typing import Any

import numpy as np

from cnnkit._errors import invalid_type, invalid_value

__all__ = ["to_categorical"]


def _as_integer_labels(y: Any) -> np.ndarray:
    if hasattr(y, "detach"):  # a torch tensor, possibly on an accelerator
        y = y.detach().cpu().numpy()
    arr = np.asarray(y)
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.number):
        raise invalid_type(
            "to_categorical: `y` must hold integer class labels.",
            expected="an array of integers 0..num_classes-1",
            received={"y.dtype": str(arr.dtype)},
        )
    if not np.issubdtype(arr.dtype, np.integer):
        # Keras accepts float arrays of whole numbers (e.g. labels read from CSV)
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            bad = arr[~np.isfinite(arr) | (arr != np.round(arr))].ravel()[:3].tolist()
            raise invalid_value(
                "to_categorical: `y` must hold whole-number class labels.",
                expected="integers 0..num_classes-1",
                received={"non-integer values": bad},
            )
        arr = arr.astype(np.int64)
    return arr


def to_categorical(y: Any, num_classes: int | None = None, dtype: str = "float32") -> np.ndarray:
    """Convert integer class labels to one-hot rows.

    Args:
        y: Class labels 0..num_classes-1, any shape (NumPy array, list or torch
            tensor). A trailing axis of size 1, as in CIFAR's ``(n, 1)`` labels,
            is dropped first, as Keras does.
        num_classes: Number of classes. Default None: ``max(y) + 1``.
        dtype: NumPy dtype of the result. Default ``"float32"``.

    Returns:
        A NumPy array of shape ``y.shape + (num_classes,)`` with a single 1 per row,
        e.g. ``(60000,)`` labels -> ``(60000, 10)``.

    Raises:
        TypeError: ``y`` is not numeric.
        ValueError: A label is negative, not a whole number, or ``>= num_classes``;
            or ``num_classes`` is not a positive integer.
    """
    labels = _as_integer_labels(y)
    if labels.ndim > 1 and labels.shape[-1] == 1:
        labels = labels.reshape(labels.shape[:-1])
    if num_classes is None:
        if labels.size == 0:
            raise invalid_value(
                "to_categorical: `num_classes` is needed when `y` is empty.",
                received={"y.shape": labels.shape},
            )
        num_classes = int(labels.max()) + 1
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise invalid_type(
            "to_categorical: `num_classes` must be an integer.",
            received={"num_classes": num_classes},
        )
    if num_classes < 1:
        raise invalid_value(
            "to_categorical: `num_classes` must be positive.",
            expected="an integer >= 1",
            received={"num_classes": num_classes},
        )
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        outside = labels[(labels < 0) | (labels >= num_classes)].ravel()[:3].tolist()
        raise invalid_value(
            f"to_categorical: labels must lie in 0..{num_classes - 1} for {num_classes} classes.",
            expected=f"0 <= y < num_classes={num_classes}",
            received={"out-of-range labels": outside},
            hint="Pass the right `num_classes`, or remap the labels to start at 0.",
        )
    out = np.zeros((labels.size, num_classes), dtype=dtype)
    out[np.arange(labels.size), labels.ravel()] = 1
    return out.reshape((*labels.shape, num_classes))

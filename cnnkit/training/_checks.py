"""Checks of ``fit``/``evaluate`` arguments and of labels against the loss, with clear messages.

The label checks run once per call on the whole label array (vectorised) as
soon as the model's output size is known (after the first forward pass), so a
wrong loss/label pairing fails before the first optimizer step instead of
deep inside ``torch.nn.functional``.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import torch

from cnnkit._errors import invalid_type, invalid_value
from cnnkit.training._losses import Loss

__all__ = [
    "check_lengths",
    "check_nan",
    "check_positive_int",
    "check_targets",
    "check_validation_split",
    "check_verbose",
    "ignore_loader_arguments",
    "step_count",
]

_warned_loader_args = False


def check_positive_int(
    value: Any, name: str, *, allow_none: bool = False, minimum: int = 1
) -> None:
    """``value`` must be an int >= ``minimum`` (or None when allowed)."""
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise invalid_value(
            f"`{name}` must be an integer >= {minimum}.",
            received={name: value},
        )


def step_count(value: Any, name: str) -> int | None:
    """A step count (or None); a float such as Keras 2's ``len(x) / 32`` is rounded up."""
    if isinstance(value, float) and math.isfinite(value) and value > 0:
        value = math.ceil(value)
    check_positive_int(value, name, allow_none=True)
    return value


def ignore_loader_arguments(**given: Any) -> None:
    """Keras 2's ``workers``/``use_multiprocessing``/``max_queue_size``: warn once, ignore.

    Args:
        given: The arguments as passed (None when not given).
    """
    global _warned_loader_args
    passed = {k: v for k, v in given.items() if v is not None}
    if not passed or _warned_loader_args:
        return
    _warned_loader_args = True
    names = ", ".join(f"{k}={v!r}" for k, v in passed.items())
    warnings.warn(
        f"fit(): {names} ignored: cnnkit's loaders already decode and augment images in "
        "their own worker processes (see cnnkit.data), so Keras 2's generator queue "
        "settings have nothing to control.",
        UserWarning,
        stacklevel=3,
    )


def check_verbose(verbose: Any) -> int:
    """Keras' ``verbose``: 0 silent, 1 progress bar, 2 one line per epoch, "auto" = 1."""
    if verbose == "auto":
        return 1
    if isinstance(verbose, bool) or verbose not in (0, 1, 2):
        raise invalid_value(
            "`verbose` must be 0 (silent), 1 (progress bar), 2 (one line per epoch) or 'auto'.",
            received={"verbose": verbose},
            choices=["auto", 0, 1, 2],
        )
    return int(verbose)


def check_validation_split(split: Any, x: Any) -> float:
    """A fraction in [0, 1), and only for in-memory arrays (a generator cannot be split)."""
    if isinstance(split, bool) or not isinstance(split, (int, float)) or not 0.0 <= split < 1.0:
        raise invalid_value(
            "fit(): `validation_split` must be a fraction in [0, 1).",
            received={"validation_split": split},
        )
    if split and not isinstance(x, (torch.Tensor, list)) and not hasattr(x, "dtype"):
        raise invalid_value(
            "fit(): `validation_split` only works with in-memory arrays, not with a dataset, "
            "generator or Sequence, because the last fraction of samples cannot be set aside.",
            received={"validation_split": split, "x": type(x).__name__},
            hint="Pass validation_data=... (e.g. a second dataset) instead.",
        )
    return float(split)


def check_lengths(x: torch.Tensor, y: torch.Tensor | None, w: torch.Tensor | None) -> None:
    """``x``, ``y`` and ``sample_weight`` must have the same number of samples."""
    if x.ndim == 0:
        raise invalid_value("`x` must have a batch axis.", received={"x.shape": tuple(x.shape)})
    if len(x) == 0:
        raise invalid_value(
            "`x` is empty: there is nothing to train on.", received={"x.shape": tuple(x.shape)}
        )
    for name, other in (("y", y), ("sample_weight", w)):
        if other is not None and (other.ndim == 0 or len(other) != len(x)):
            raise invalid_value(
                f"`x` and `{name}` must have the same number of samples (the first axis).",
                received={"x.shape": tuple(x.shape), f"{name}.shape": tuple(other.shape)},
            )


def check_nan(t: torch.Tensor, name: str) -> None:
    """Warn (once per call) when a float array holds NaN or infinity."""
    if not t.is_floating_point():
        return
    # One pass, no temporary mask: NaN and inf propagate into the sum. An overflowing sum only
    # costs the exact count below, which then finds nothing.
    if bool(torch.isfinite(t.sum())):
        return
    bad = int((~torch.isfinite(t)).sum())
    if bad:
        warnings.warn(
            f"`{name}` contains {bad} NaN or infinite value(s) out of {t.numel()}; the loss "
            "will become NaN. Clean the data (e.g. np.nan_to_num) before training.",
            RuntimeWarning,
            stacklevel=4,
        )


def _is_integral(y: torch.Tensor) -> bool:
    return not y.is_floating_point() or bool(torch.equal(y, y.round()))


def check_targets(loss: Loss, y: torch.Tensor, y_pred: torch.Tensor) -> None:
    """Labels must suit ``loss`` and the model's output (``y_pred`` of one batch)."""
    classes = y_pred.shape[-1] if y_pred.ndim > 1 else 1
    got = {"y.shape": tuple(y.shape), "model output shape": (None, *y_pred.shape[1:])}
    if loss.label_kind == "sparse":
        if y.ndim == y_pred.ndim and y.shape[-1] == classes and classes > 1:
            raise invalid_value(
                f"{loss.name} expects integer class labels of shape (batch,), but the labels "
                f"look one-hot (one column per class).",
                received=got,
                hint="Use loss='categorical_crossentropy' for one-hot labels, or pass "
                "y.argmax(-1) as labels.",
            )
        if not _is_integral(y):
            raise invalid_type(
                f"{loss.name} expects integer class labels.", received={"y.dtype": str(y.dtype)}
            )
        lo, hi = int(y.min()), int(y.max())
        if lo < 0 or hi >= classes:
            raise invalid_value(
                f"Labels out of range for {loss.name}: the model has {classes} outputs, so "
                f"labels must be integers in [0, {classes - 1}].",
                received={"min(y)": lo, "max(y)": hi},
                hint="Give the last layer as many units as there are classes.",
            )
    elif loss.label_kind == "dense":
        if y.ndim < y_pred.ndim or (y.shape[-1] == 1 and classes > 1):
            raise invalid_value(
                f"{loss.name} expects one-hot labels of shape (batch, {classes}), but the "
                f"labels look like integer class indices.",
                received=got,
                hint="Use loss='sparse_categorical_crossentropy' for integer labels, or "
                "convert them with cnnkit.utils.to_categorical(y, num_classes).",
            )
        if y.shape[-1] != classes:
            raise invalid_value(
                f"{loss.name}: the labels have {y.shape[-1]} columns but the model has "
                f"{classes} outputs.",
                received=got,
            )
    elif loss.name == "binary_crossentropy" and (float(y.min()) < 0 or float(y.max()) > 1):
        raise invalid_value(
            "Labels out of range for binary_crossentropy: they must lie in [0, 1].",
            received={"min(y)": float(y.min()), "max(y)": float(y.max())},
            hint="For more than two classes use sparse_categorical_crossentropy.",
        )
    if y.numel() // max(len(y), 1) != y_pred.numel() // max(len(y_pred), 1) and (
        loss.label_kind != "sparse"
    ):
        raise invalid_value(
            f"{loss.name}: the labels do not match the model's output shape.", received=got
        )

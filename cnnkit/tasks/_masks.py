"""Mask metrics: IoU and Dice of binary masks, and per-class IoU / Dice of class-indexed maps.

A class-indexed map is an integer ``(N, H, W)`` array whose value at each pixel
is its class (0 = background), as ``digit_canvases(...).masks``. Per-class
numbers come from one confusion matrix (a ``bincount``), so a 1,000-canvas
test set is scored in one pass.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from cnnkit._errors import invalid_type, invalid_value

__all__ = ["dice_score", "mask_iou", "segmentation_scores"]


def _pair(y_true: Any, y_pred: Any, what: str) -> tuple[torch.Tensor, torch.Tensor]:
    a, b = (
        torch.as_tensor(np.asarray(v) if not torch.is_tensor(v) else v) for v in (y_true, y_pred)
    )
    if a.shape != b.shape or a.ndim < 2:
        raise invalid_value(
            f"{what}: `y_true` and `y_pred` must be masks of the same shape.",
            expected="two (..., height, width) arrays of one shape",
            received={"y_true.shape": tuple(a.shape), "y_pred.shape": tuple(b.shape)},
        )
    if a.is_floating_point() or b.is_floating_point():
        raise invalid_type(
            f"{what}: masks must be boolean or integer (threshold probabilities first).",
            received={"y_true.dtype": a.dtype, "y_pred.dtype": b.dtype},
        )
    return a, b


def mask_iou(y_true: Any, y_pred: Any) -> torch.Tensor:
    """IoU of binary masks over the last two axes: ``(..., H, W)`` -> ``(...)``; 1 if both empty."""
    a, b = (m.bool() for m in _pair(y_true, y_pred, "mask_iou"))
    inter = (a & b).sum(dim=(-2, -1)).double()
    union = (a | b).sum(dim=(-2, -1)).double()
    return torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(union))


def dice_score(y_true: Any, y_pred: Any) -> torch.Tensor:
    """Dice (F1) of binary masks over their last two axes; 1 if both are empty."""
    a, b = (m.bool() for m in _pair(y_true, y_pred, "dice_score"))
    inter = (a & b).sum(dim=(-2, -1)).double()
    total = (a.sum(dim=(-2, -1)) + b.sum(dim=(-2, -1))).double()
    return torch.where(total > 0, 2 * inter / total.clamp(min=1), torch.ones_like(total))


def segmentation_scores(y_true: Any, y_pred: Any, num_classes: int) -> dict[str, Any]:
    """Per-class IoU and Dice of class-indexed maps, and their means.

    Args:
        y_true: Integer ``(..., H, W)`` true classes in ``[0, num_classes)``.
        y_pred: Integer predicted classes, same shape.
        num_classes: Number of classes, background included (11 for digits).

    Returns:
        ``{"mean_iou", "mean_dice", "pixel_accuracy", "iou": [per class], "dice": [...]}``;
        the means are over the classes present in ``y_true`` or ``y_pred``.
    """
    a, b = _pair(y_true, y_pred, "segmentation_scores")
    a, b = a.reshape(-1).long(), b.reshape(-1).long()
    for name, m in (("y_true", a), ("y_pred", b)):
        if len(m) and (m.min() < 0 or m.max() >= num_classes):
            raise invalid_value(
                f"segmentation_scores: `{name}` holds classes outside [0, {num_classes}).",
                received={f"min({name})": int(m.min()), f"max({name})": int(m.max())},
            )
    confusion = torch.bincount(a * num_classes + b, minlength=num_classes**2)
    confusion = confusion.reshape(num_classes, num_classes).double()
    tp = confusion.diag()
    true_count, pred_count = confusion.sum(1), confusion.sum(0)
    union = true_count + pred_count - tp
    present = union > 0
    iou = torch.where(present, tp / union.clamp(min=1), torch.full_like(tp, float("nan")))
    dice = torch.where(
        present, 2 * tp / (true_count + pred_count).clamp(min=1), torch.full_like(tp, float("nan"))
    )
    return {
        "mean_iou": float(iou[present].mean()),
        "mean_dice": float(dice[present].mean()),
        "pixel_accuracy": float(tp.sum() / confusion.sum().clamp(min=1)),
        "iou": iou.tolist(),
        "dice": dice.tolist(),
    }

"""Boxes on torch: checks, IoU, non-maximum suppression and the box encodings the heads learn.

Boxes are ``(x1, y1, x2, y2)`` pixels with x2/y2 exclusive (width = x2 - x1), as
``cnnkit.datasets.digit_canvases`` gives them; COCO's ``xywh`` converts with
``cnnkit.datasets.boxes_to_xywh``. torchvision is not used (it has no CPU build
here), so NMS is written on plain torch and tested against a brute-force loop.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from cnnkit._errors import invalid_type, invalid_value

__all__ = [
    "batched_nms",
    "box_area",
    "box_iou",
    "check_boxes",
    "decode_boxes",
    "encode_boxes",
    "nms",
]


def check_boxes(
    boxes: Any, *, name: str = "boxes", image_size: tuple[int, int] | None = None
) -> torch.Tensor:
    """Boxes as a float32 tensor of shape ``(..., 4)``, refused with a clear error if malformed.

    Args:
        boxes: Array or tensor of ``(x1, y1, x2, y2)`` boxes, shape ``(..., 4)``.
        name: The argument's name, for the error message.
        image_size: ``(height, width)``; when given, boxes must lie inside ``[0, width] x
            [0, height]``.

    Raises:
        TypeError: Not an array of numbers.
        ValueError: Last axis not 4, non-finite values, x2 < x1 or y2 < y1, or a box outside
            the image.
    """
    try:
        t = torch.as_tensor(np.asarray(boxes) if not torch.is_tensor(boxes) else boxes)
    except (TypeError, ValueError) as err:
        raise invalid_type(
            f"`{name}` must be an array of numbers.", received={name: type(boxes).__name__}
        ) from err
    if t.dtype == torch.bool or t.is_complex():
        raise invalid_type(f"`{name}` must hold numbers.", received={f"{name}.dtype": t.dtype})
    t = t.to(torch.float32)
    if t.ndim == 0 or t.shape[-1] != 4:
        raise invalid_value(
            f"`{name}` must have 4 coordinates (x1, y1, x2, y2) in its last axis.",
            expected="shape (..., 4)",
            received={f"{name}.shape": tuple(t.shape)},
        )
    if not torch.isfinite(t).all():
        raise invalid_value(f"`{name}` must be finite.", received={f"{name} has NaN/inf": True})
    bad = (t[..., 2] < t[..., 0]) | (t[..., 3] < t[..., 1])
    if bad.any():
        raise invalid_value(
            f"`{name}` must satisfy x2 >= x1 and y2 >= y1.",
            expected="(x1, y1, x2, y2) corners; COCO (x, y, w, h) boxes convert with "
            "cnnkit.datasets.boxes_from_xywh",
            received={f"first bad {name}": t[bad][0].tolist()},
        )
    if image_size is not None:
        h, w = image_size
        outside = (t[..., :2] < 0).any(-1) | (t[..., 2] > w) | (t[..., 3] > h)
        if outside.any():
            raise invalid_value(
                f"`{name}` must lie inside the image.",
                expected=f"0 <= x1 <= x2 <= {w} and 0 <= y1 <= y2 <= {h}",
                received={f"first outside {name}": t[outside][0].tolist(), "image_size": (h, w)},
            )
    return t


def box_area(boxes: torch.Tensor) -> torch.Tensor:
    """Areas of ``(..., 4)`` boxes -> ``(...)``."""
    return (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])


def box_iou(a: Any, b: Any) -> torch.Tensor:
    """Pairwise IoU of ``(N, 4)`` and ``(M, 4)`` boxes -> ``(N, M)``; 0 where both are empty."""
    a, b = check_boxes(a, name="a"), check_boxes(b, name="b")
    lt = torch.maximum(a[:, None, :2], b[None, :, :2])
    rb = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    union = box_area(a)[:, None] + box_area(b)[None, :] - inter
    return torch.where(union > 0, inter / union.clamp(min=1e-12), torch.zeros_like(inter))


def nms(boxes: Any, scores: Any, iou_threshold: float = 0.5) -> torch.Tensor:
    """Greedy non-maximum suppression, as ``torchvision.ops.nms``.

    Boxes are visited by falling score; each kept box removes every later box
    whose IoU with it is above ``iou_threshold``.

    Args:
        boxes: ``(N, 4)`` boxes.
        scores: ``(N,)`` scores.
        iou_threshold: Boxes overlapping a kept one by more than this are dropped.

    Returns:
        int64 indices of the kept boxes, by falling score.
    """
    boxes = check_boxes(boxes)
    scores = torch.as_tensor(scores, dtype=torch.float32)
    if boxes.ndim != 2 or scores.shape != boxes.shape[:1]:
        raise invalid_value(
            "nms: `boxes` must be (N, 4) and `scores` (N,).",
            received={"boxes.shape": tuple(boxes.shape), "scores.shape": tuple(scores.shape)},
        )
    order = torch.argsort(scores, descending=True, stable=True)
    iou = box_iou(boxes[order], boxes[order])
    # After sorting, box j can only be suppressed by an earlier kept box i < j.
    overlaps = torch.triu(iou > iou_threshold, diagonal=1)
    keep = torch.ones(len(order), dtype=torch.bool)
    for i in range(len(order)):  # greedy: at most N cheap row operations
        if keep[i]:
            keep &= ~overlaps[i]
    return order[keep]


def batched_nms(boxes: Any, scores: Any, groups: Any, iou_threshold: float = 0.5) -> torch.Tensor:
    """NMS done independently within each group (class, or image and class), in one pass.

    As ``torchvision.ops.batched_nms``: boxes of different groups are moved
    apart by ``group * (largest coordinate + 1)``, so they never overlap.

    Args:
        boxes: ``(N, 4)`` boxes.
        scores: ``(N,)`` scores.
        groups: ``(N,)`` integer group of each box.
        iou_threshold: As for :func:`nms`.

    Returns:
        int64 indices of the kept boxes, by falling score.
    """
    boxes = check_boxes(boxes)
    groups = torch.as_tensor(groups)
    if groups.shape != boxes.shape[:1]:
        raise invalid_value(
            "batched_nms: `groups` must hold one group per box.",
            received={"groups.shape": tuple(groups.shape), "boxes.shape": tuple(boxes.shape)},
        )
    if boxes.numel() == 0:
        return torch.zeros(0, dtype=torch.int64)
    offsets = groups.to(boxes.dtype) * (boxes.max() - boxes.min() + 1)
    shifted = boxes - boxes.min() + offsets[:, None]
    return nms(shifted, scores, iou_threshold)


def encode_boxes(boxes: torch.Tensor, image_size: tuple[int, int]) -> torch.Tensor:
    """``(..., 4)`` pixel boxes -> centre x, centre y, width, height as fractions of the image.

    The localisation head regresses these four numbers in ``[0, 1]``.
    """
    h, w = image_size
    scale = boxes.new_tensor([w, h, w, h])
    centre = (boxes[..., :2] + boxes[..., 2:]) / 2
    size = boxes[..., 2:] - boxes[..., :2]
    return torch.cat([centre, size], dim=-1) / scale


def decode_boxes(codes: torch.Tensor, image_size: tuple[int, int]) -> torch.Tensor:
    """Inverse of :func:`encode_boxes`: ``(..., 4)`` fractions -> pixel ``(x1, y1, x2, y2)``."""
    h, w = image_size
    scale = codes.new_tensor([w, h, w, h])
    c = codes * scale
    return torch.cat([c[..., :2] - c[..., 2:] / 2, c[..., :2] + c[..., 2:] / 2], dim=-1)

"""Detection: a small anchor-free CenterNet (Zhou et al. 2019, "Objects as Points").

The network maps a ``(H, W, 1)`` canvas to a stride-4 grid ``(H/4, W/4, C + 4)``:
per cell, ``C`` class-heatmap logits (is an object's centre here?), then the
box width and height in grid cells and the centre's sub-cell offset. Decoding
keeps heatmap peaks (a 3×3 max-pool equality, CenterNet's own suppression),
the top ``max_detections`` of them, builds their boxes, and runs class-wise
NMS on the boxes. :class:`Detector` wraps a trained model with ``predict``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from cnnkit._errors import invalid_value
from cnnkit.datasets import CanvasBatch
from cnnkit.layers import (
    Concatenate,
    Constant,
    Conv2D,
    Conv2DTranspose,
    Input,
    MaxPooling2D,
    Rescaling,
)
from cnnkit.models import Model, load_model
from cnnkit.tasks._average_precision import mean_average_precision
from cnnkit.tasks._blocks import conv_block
from cnnkit.tasks._boxes import batched_nms

__all__ = [
    "Detector",
    "build_detector",
    "detection_loss",
    "detection_targets",
    "evaluate_detector",
]

STRIDE = 4
_PRIOR = float(-np.log((1 - 0.1) / 0.1))  # heatmap bias: start at p = 0.1 (focal-loss init)


def build_detector(input_shape: tuple[int, int, int] = (64, 64, 1), num_classes: int = 10):
    """CenterNet on a small cnnkit backbone; output ``(batch, H/4, W/4, num_classes + 4)``.

    Backbone: stride-2 ``conv_block(16)``, ``conv_block(32)`` + pool (stride 4),
    two ``conv_block(64)``, pool + ``conv_block(96)`` (stride 8, for context),
    ``Conv2DTranspose(64, 2, strides=2)`` back to stride 4, concatenated with the
    stride-4 features, ``conv_block(64)``. Heads: 1×1 Conv2D heatmap logits
    (bias -2.2) and 1×1 Conv2D size + offset.
    """
    inputs = Input(shape=input_shape)
    x = conv_block(Rescaling(1 / 255)(inputs), 16, strides=2)
    x = MaxPooling2D(2)(conv_block(x, 32))
    fine = conv_block(conv_block(x, 64), 64)
    deep = conv_block(MaxPooling2D(2)(fine), 96)
    up = Conv2DTranspose(64, 2, strides=2, padding="same")(deep)
    x = conv_block(Concatenate()([up, fine]), 64)
    heat = Conv2D(num_classes, 1, bias_initializer=Constant(_PRIOR))(x)
    geometry = Conv2D(4, 1)(x)
    return Model(inputs, Concatenate()([heat, geometry]), name="centernet")


def detection_targets(batch: CanvasBatch, num_classes: int = 10) -> np.ndarray:
    """``(B, H/4, W/4, num_classes + 4)`` float32: Gaussian heatmaps, then size and offset.

    Each object puts a Gaussian (sigma = its box size / 4 cells / 6, at least 0.5)
    on its class's heatmap, exactly 1 at its centre cell; the centre cell also
    holds the box width/height in cells and the centre's offset inside the cell.
    Regression targets are read only where a heatmap is exactly 1.
    """
    b, h, w = batch.masks.shape
    gh, gw = h // STRIDE, w // STRIDE
    out = np.zeros((b, gh, gw, num_classes + 4), np.float32)
    ys, xs = np.arange(gh)[:, None], np.arange(gw)[None, :]
    for k in range(batch.boxes.shape[1]):  # objects one slot at a time, canvases at once
        rows = np.where(batch.labels[:, k] >= 0)[0]
        if not len(rows):
            continue
        box = batch.boxes[rows, k] / STRIDE
        centre = (box[:, :2] + box[:, 2:]) / 2
        cell = np.minimum(centre.astype(int), [gw - 1, gh - 1])
        size = box[:, 2:] - box[:, :2]
        sigma = np.maximum(size.max(1) / 6, 0.5)[:, None, None]
        d2 = (xs - cell[:, 0, None, None]) ** 2 + (ys - cell[:, 1, None, None]) ** 2
        gauss = np.exp(-d2 / (2 * sigma**2)).astype(np.float32)
        cls = batch.labels[rows, k]
        out[rows, :, :, cls] = np.maximum(out[rows, :, :, cls], gauss)
        out[rows, cell[:, 1], cell[:, 0], num_classes : num_classes + 2] = size
        out[rows, cell[:, 1], cell[:, 0], num_classes + 2 :] = centre - cell
    return out


def detection_loss(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Per-canvas CenterNet loss: penalty-reduced focal loss + 0.1 × L1 size + L1 offset.

    All three are divided by the canvas's number of objects, as in the paper.
    """
    heat_t, geo_t = y_true[..., :-4], y_true[..., -4:]
    logits, geo = y_pred[..., :-4].float(), y_pred[..., -4:].float()
    p = logits.sigmoid()
    pos = heat_t == 1
    log_p, log_not_p = F.logsigmoid(logits), F.logsigmoid(-logits)
    focal = torch.where(pos, (1 - p) ** 2 * -log_p, (1 - heat_t) ** 4 * p**2 * -log_not_p).sum(
        dim=(1, 2, 3)
    )
    centre = pos.any(-1, keepdim=True).float()
    count = centre.sum(dim=(1, 2, 3)).clamp(min=1)
    l1 = ((geo - geo_t).abs() * centre).sum(dim=(1, 2))
    return (focal + 0.1 * l1[:, :2].sum(-1) + l1[:, 2:].sum(-1)) / count


class Detector:
    """A trained CenterNet model with ``predict`` returning boxes, scores and labels per image.

    Args:
        model: A model from :func:`build_detector` (or loaded with ``load_model``).
        score_threshold: Detections scoring below this are dropped. Default 0.1.
        iou_threshold: Class-wise NMS threshold on the decoded boxes. Default 0.5.
        max_detections: Heatmap peaks kept per image before NMS. Default 20.
    """

    def __init__(
        self,
        model: Model,
        score_threshold: float = 0.1,
        iou_threshold: float = 0.5,
        max_detections: int = 20,
    ) -> None:
        self.model = model
        self.score_threshold = float(score_threshold)
        self.iou_threshold = float(iou_threshold)
        self.max_detections = int(max_detections)

    @classmethod
    def load(cls, path: Any, **kwargs: Any) -> Detector:
        """A Detector around ``cnnkit.models.load_model(path)``."""
        return cls(load_model(path), **kwargs)

    def save(self, path: Any) -> None:
        """``model.save(path)`` (JSON config + safetensors)."""
        self.model.save(path)

    def predict(self, images: np.ndarray, batch_size: int = 128) -> list[dict[str, np.ndarray]]:
        """Detections of each ``(N, H, W, 1)`` image (pixels 0..255).

        Returns:
            One dict per image: ``boxes`` ``(D, 4)`` float32 ``(x1, y1, x2, y2)`` pixels,
            ``scores`` ``(D,)`` float32 and ``labels`` ``(D,)`` int64, by falling score.
        """
        images = np.asarray(images)
        if images.ndim != 4 or images.shape[-1] != 1:
            raise invalid_value(
                "Detector.predict: `images` must be a batch of one-channel images.",
                expected="shape (N, height, width, 1)",
                received={"images.shape": images.shape},
            )
        out = torch.as_tensor(
            self.model.predict(images.astype(np.float32), batch_size=batch_size, verbose=0)
        )
        return [self._decode(grid) for grid in out]

    def _decode(self, grid: torch.Tensor) -> dict[str, np.ndarray]:
        heat = grid[..., :-4].sigmoid().permute(2, 0, 1)  # (C, h, w)
        peaks = heat == F.max_pool2d(heat[None], 3, stride=1, padding=1)[0]
        scores, flat = (heat * peaks).reshape(-1).topk(min(self.max_detections, heat.numel()))
        keep = scores >= self.score_threshold
        scores, flat = scores[keep], flat[keep]
        h, w = heat.shape[1:]
        labels, ys, xs = flat // (h * w), (flat % (h * w)) // w, flat % w
        geo = grid[ys, xs, -4:]
        centre = torch.stack([xs, ys], dim=1).float() + geo[:, 2:]
        half = geo[:, :2].clamp(min=0) / 2
        boxes = torch.cat([centre - half, centre + half], dim=1) * STRIDE
        boxes = boxes.clamp(min=0).minimum(torch.tensor([w, h, w, h]) * STRIDE)
        kept = batched_nms(boxes, scores, labels, self.iou_threshold)
        return {
            "boxes": boxes[kept].numpy().astype(np.float32),
            "scores": scores[kept].numpy().astype(np.float32),
            "labels": labels[kept].numpy().astype(np.int64),
        }


def evaluate_detector(model: Model, batch: CanvasBatch) -> dict[str, Any]:
    """COCO-style mAP@0.5 and mAP@[.5:.95] of :class:`Detector` ``(model)`` on the canvases."""
    found = Detector(model).predict(batch.images)
    truth = [batch.boxes[i, : batch.counts[i]] for i in range(len(found))]
    labels = [batch.labels[i, : batch.counts[i]] for i in range(len(found))]
    result = mean_average_precision(
        [d["boxes"] for d in found],
        [d["scores"] for d in found],
        [d["labels"] for d in found],
        truth,
        labels,
    )
    return {
        "map_50": result["map_50"],
        "map_50_95": result["map"],
        "map_75": result["map_75"],
        "per_class_ap": result["per_class"],
        "canvases": len(found),
        "objects": int(batch.counts.sum()),
    }

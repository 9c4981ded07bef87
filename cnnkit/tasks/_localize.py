"""Localisation: one object per image, a class head and a box head trained jointly.

The model ends in one ``(batch, classes + 4)`` output: class logits, then the
box as centre x, centre y, width, height in fractions of the image (sigmoid).
``fit``'s engine takes one loss per model, so one loss function trains both
heads: cross-entropy + ``box_weight`` x smooth-L1 on the four fractions +
(1 - GIoU) on the decoded boxes.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from cnnkit.datasets import CanvasBatch
from cnnkit.layers import Concatenate, Dense, Flatten, Input, MaxPooling2D, Rescaling
from cnnkit.models import Model
from cnnkit.tasks._blocks import conv_block
from cnnkit.tasks._boxes import box_area, decode_boxes, encode_boxes

__all__ = [
    "build_localizer",
    "evaluate_localizer",
    "generalized_iou",
    "localization_loss",
    "localization_targets",
    "predict_localizer",
]


def build_localizer(
    input_shape: tuple[int, int, int] = (64, 64, 1),
    num_classes: int = 10,
    filters: tuple[int, ...] = (32, 64, 64),
) -> Model:
    """A small CNN with a class head and a box head, concatenated into one output.

    A stride-2 ``conv_block(16)`` (64×64 -> 32×32), then ``conv_block`` +
    MaxPooling2D(2) per entry of ``filters`` (-> 4×4), Flatten, Dense(128, relu),
    then ``Dense(num_classes)`` logits and ``Dense(4, sigmoid)`` box fractions,
    concatenated to ``(batch, num_classes + 4)``. Inputs are raw pixels 0..255
    (a Rescaling layer divides by 255). About 12 M multiply-adds per 64×64 image.
    """
    inputs = Input(shape=input_shape)
    x = conv_block(Rescaling(1 / 255)(inputs), 16, strides=2)
    for f in filters:
        x = MaxPooling2D(2)(conv_block(x, f))
    x = Dense(128, activation="relu")(Flatten()(x))
    logits = Dense(num_classes)(x)
    box = Dense(4, activation="sigmoid")(x)
    return Model(inputs, Concatenate()([logits, box]), name="localizer")


def localization_targets(batch: CanvasBatch, num_classes: int = 10) -> np.ndarray:
    """``(B, num_classes + 4)`` float32 targets of one-object canvases: one-hot class, box.

    The same width as the model's output, as ``fit`` checks for a loss function.
    """
    size = batch.images.shape[1:3]
    codes = encode_boxes(torch.from_numpy(batch.boxes[:, 0]), size).numpy()
    one_hot = np.eye(num_classes, dtype=np.float32)[batch.labels[:, 0]]
    return np.concatenate([one_hot, codes], axis=1)


def generalized_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Element-wise GIoU of two ``(N, 4)`` box tensors (Rezatofighi et al. 2019) -> ``(N,)``."""
    inter = (torch.minimum(a[:, 2:], b[:, 2:]) - torch.maximum(a[:, :2], b[:, :2])).clamp(min=0)
    inter = inter.prod(-1)
    union = box_area(a) + box_area(b) - inter
    hull = (torch.maximum(a[:, 2:], b[:, 2:]) - torch.minimum(a[:, :2], b[:, :2])).prod(-1)
    iou = inter / union.clamp(min=1e-7)
    return iou - (hull - union) / hull.clamp(min=1e-7)


def localization_loss(y_true: torch.Tensor, y_pred: torch.Tensor, box_weight: float = 5.0):
    """Per-sample joint loss: CE(class) + ``box_weight`` × smooth-L1(box) + (1 − GIoU).

    Args:
        y_true: ``(B, classes + 4)``: one-hot class, then centre x, centre y, width, height
            fractions (:func:`localization_targets`).
        y_pred: ``(B, classes + 4)``: class logits, then the predicted fractions.
    """
    labels, codes = y_true[:, :-4].argmax(-1), y_true[:, -4:]
    ce = F.cross_entropy(y_pred[:, :-4].float(), labels, reduction="none")
    pred = y_pred[:, -4:].float()
    l1 = F.smooth_l1_loss(pred, codes, beta=0.02, reduction="none").sum(1)
    # GIoU on a unit-square image: scale-free, so the same weight fits any canvas size.
    giou = generalized_iou(decode_boxes(pred, (1, 1)), decode_boxes(codes, (1, 1)))
    return ce + box_weight * l1 + (1 - giou)


def predict_localizer(model: Model, images: np.ndarray, batch_size: int = 256):
    """Class and box for each image: ``(labels (N,), scores (N,), boxes (N, 4) pixels)``."""
    out = torch.as_tensor(model.predict(images.astype(np.float32), batch_size=batch_size))
    probs = out[:, :-4].softmax(-1)
    boxes = decode_boxes(out[:, -4:], images.shape[1:3])
    scores, labels = probs.max(-1)
    return labels.numpy(), scores.numpy(), boxes.numpy()


def evaluate_localizer(model: Model, batch: CanvasBatch) -> dict[str, float]:
    """Class accuracy and mean IoU (predicted vs true box) on one-object canvases."""
    labels, _, boxes = predict_localizer(model, batch.images)
    pred, true = torch.from_numpy(boxes), torch.from_numpy(batch.boxes[:, 0])
    inter = torch.minimum(pred[:, 2:], true[:, 2:]) - torch.maximum(pred[:, :2], true[:, :2])
    inter = inter.clamp(min=0).prod(-1)
    iou = inter / (box_area(pred) + box_area(true) - inter).clamp(min=1e-7)
    return {
        "class_accuracy": float((labels == batch.labels[:, 0]).mean()),
        "mean_iou": float(iou.mean()),
        "iou_at_least_0.5": float((iou >= 0.5).double().mean()),
        "canvases": len(labels),
    }

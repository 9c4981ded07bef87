"""Semantic segmentation of canvases: a U-Net and an FCN, one class per pixel (0 = background).

* **U-Net** (Ronneberger et al. 2015): an encoder of conv blocks and max pools,
  a decoder that upsamples with ``Conv2DTranspose`` and *concatenates* the
  encoder's map of the same size (the skip connection) before each conv block.
* **FCN** (Long et al. 2015): the same kind of encoder, a 1×1 class-score
  layer at several depths, and a decoder that upsamples scores with
  ``Conv2DTranspose`` and *adds* the finer depth's scores (FCN-8s' fusion,
  carried on to stride 2 so that thin strokes survive).

Both output ``(batch, H, W, classes)`` logits. The loss is pixel cross-entropy
plus soft Dice (which keeps the small stroke classes from drowning in
background pixels).

The class layer's biases start at the canvases' class frequencies (about 95%
background; ``prior_bias``), as RetinaNet starts its heads: from equal logits
every pixel starts as a digit, and at a small network's Adam step sizes undoing
that took hundreds of steps in which nothing else was learnt.

Their BatchNormalization layers use momentum 0.9, not Keras' 0.99: 0.99 keeps
``0.99**n`` of the starting statistics after ``n`` steps, and a tiny U-Net after
48 steps scored IoU 0.96 / 0.95 on its two classes in training mode but 0 / 0 in
inference (background everywhere), its running means at 38% of the batches'.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from cnnkit.datasets import CanvasBatch
from cnnkit.layers import Add, Concatenate, Conv2D, Conv2DTranspose, Input, MaxPooling2D, Rescaling
from cnnkit.models import Model
from cnnkit.tasks._blocks import conv_block
from cnnkit.tasks._masks import segmentation_scores

__all__ = [
    "build_fcn",
    "build_unet",
    "evaluate_segmenter",
    "predict_masks",
    "prior_bias",
    "segmentation_loss",
    "segmentation_targets",
]


_MOMENTUM = 0.9  # BatchNormalization momentum (see the module docstring)
_BACKGROUND_PRIOR = 0.95  # share of background pixels on the recipes' canvases (measured 0.948)


def prior_bias(layer: Conv2D | Conv2DTranspose, background: float = _BACKGROUND_PRIOR) -> None:
    """Set a built class layer's biases to log class priors: ``background`` for class 0.

    The other classes share ``1 - background`` equally, so the softmax at the
    start gives each pixel these priors (biases are in place, under ``no_grad``).
    """
    others = (1 - background) / (layer.filters - 1)
    priors = torch.full_like(layer.bias, others)
    priors[0] = background
    with torch.no_grad():
        layer.bias.copy_(priors.log())


def build_unet(
    input_shape: tuple[int, int, int] = (64, 64, 1),
    num_classes: int = 11,
    filters: tuple[int, ...] = (12, 24, 48, 64),
) -> Model:
    """U-Net: ``len(filters) - 1`` down steps and as many up steps with concatenated skips.

    Encoder level ``i`` is ``conv_block(filters[i])`` (then MaxPooling2D(2)); the
    deepest level is two blocks of ``filters[-1]``. Each decoder step is
    ``Conv2DTranspose(filters[i], 2, strides=2)``, Concatenate with encoder level
    ``i``, ``conv_block(filters[i])``; a 1×1 Conv2D gives ``num_classes`` logits.
    """
    inputs = Input(shape=input_shape)
    x = Rescaling(1 / 255)(inputs)
    skips = []
    for f in filters[:-1]:
        x = conv_block(x, f, momentum=_MOMENTUM)
        skips.append(x)
        x = MaxPooling2D(2)(x)
    x = conv_block(conv_block(x, filters[-1], momentum=_MOMENTUM), filters[-1], momentum=_MOMENTUM)
    for f, skip in zip(reversed(filters[:-1]), reversed(skips), strict=True):
        x = Conv2DTranspose(f, 2, strides=2, padding="same")(x)
        x = conv_block(Concatenate()([x, skip]), f, momentum=_MOMENTUM)
    head = Conv2D(num_classes, 1)
    outputs = head(x)
    prior_bias(head)
    return Model(inputs, outputs, name="unet")


def build_fcn(
    input_shape: tuple[int, int, int] = (64, 64, 1),
    num_classes: int = 11,
    filters: tuple[int, ...] = (16, 32, 48, 64),
) -> Model:
    """FCN with additive score fusion, from stride ``2**(len(filters)-1)`` up to stride 2.

    Encoder: ``conv_block(filters[i])`` + MaxPooling2D(2) per level (the first
    block at stride 2), a 1×1 score layer on each level; the decoder upsamples
    the deepest scores with ``Conv2DTranspose(num_classes, 4, strides=2)``, adds
    the next level's scores, and so on; a last ``Conv2DTranspose(num_classes, 4,
    strides=2)`` returns to full size.
    """
    inputs = Input(shape=input_shape)
    x = conv_block(Rescaling(1 / 255)(inputs), filters[0], strides=2, momentum=_MOMENTUM)
    scores = [Conv2D(num_classes, 1)(x)]
    for f in filters[1:]:
        x = conv_block(MaxPooling2D(2)(x), f, momentum=_MOMENTUM)
        scores.append(Conv2D(num_classes, 1)(conv_block(x, f, momentum=_MOMENTUM)))
    y = scores[-1]
    for finer in reversed(scores[:-1]):
        y = Conv2DTranspose(num_classes, 4, strides=2, padding="same")(y)
        y = Add()([y, finer])
    head = Conv2DTranspose(num_classes, 4, strides=2, padding="same")
    y = head(y)
    prior_bias(head)
    return Model(inputs, y, name="fcn")


def segmentation_targets(batch: CanvasBatch, num_classes: int = 11) -> np.ndarray:
    """``(B, H, W, num_classes)`` one-hot float32 masks (``fit`` wants the output's width)."""
    return np.eye(num_classes, dtype=np.float32)[batch.masks]


def segmentation_loss(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Per-image pixel cross-entropy + (1 − soft Dice averaged over classes).

    Args:
        y_true: ``(B, H, W, C)`` one-hot masks.
        y_pred: ``(B, H, W, C)`` logits.
    """
    logits = y_pred.float()
    ce = -(y_true * F.log_softmax(logits, dim=-1)).sum(-1).mean(dim=(1, 2))
    probs = logits.softmax(-1)
    inter = (probs * y_true).sum(dim=(1, 2))
    total = probs.sum(dim=(1, 2)) + y_true.sum(dim=(1, 2))
    dice = (2 * inter + 1) / (total + 1)  # +1: an absent class predicted absent counts as 1
    return ce + (1 - dice.mean(-1))


def predict_masks(model: Model, images: np.ndarray, batch_size: int = 100) -> np.ndarray:
    """``(N, H, W)`` uint8 predicted classes, computed ``batch_size`` images at a time."""
    parts = []
    for start in range(0, len(images), batch_size):
        chunk = images[start : start + batch_size].astype(np.float32)
        logits = torch.as_tensor(model.predict(chunk, batch_size=batch_size, verbose=0))
        parts.append(logits.argmax(-1).to(torch.uint8).numpy())
    return np.concatenate(parts)


def evaluate_segmenter(model: Model, batch: CanvasBatch, num_classes: int = 11) -> dict[str, Any]:
    """Mean IoU / Dice over background + the digit classes, pixel accuracy, per-class IoU."""
    pred = predict_masks(model, batch.images)
    scores = segmentation_scores(batch.masks, pred, num_classes)
    return {**scores, "canvases": len(pred)}

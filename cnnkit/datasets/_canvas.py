"""Seeded "digits on a canvas": several real MNIST / Fashion-MNIST images placed on one image.

The data for localisation, detection and segmentation. Every canvas is made
from real 28×28 images at run time, so nothing is stored: batch ``i`` is a pure
function of ``(seed, i)``, and training streams canvases batch by batch.

API::

    from cnnkit.datasets import digit_canvases, boxes_to_xywh, boxes_from_xywh

    canvases = digit_canvases("mnist", split="train", size=96, num_objects=(1, 4),
                              scale=(0.8, 1.6), clutter=0, batch_size=64,
                              num_canvases=10_000, seed=0)
    batch = canvases.batch(0)         # or: for batch in canvases: ...
    batch.images   # (64, 96, 96, 1) uint8, channels-last, 0 = background
    batch.boxes    # (64, 4, 4) float32 (x1, y1, x2, y2) pixels, x2/y2 exclusive; 0-padded
    batch.labels   # (64, 4) int64 class of each object, -1 where there is no object
    batch.masks    # (64, 96, 96) uint8 per-pixel class: 0 = background, label + 1 on strokes
    batch.counts   # (64,) int64 objects on each canvas
    test = canvases.take(1000)        # the first 1000 canvases as one CanvasBatch

``DigitCanvases(images, labels, ...)`` does the same from any ``(N, 28, 28)``
uint8 arrays. How a canvas is made, vectorised over the batch:

1. Each canvas draws its number of objects, and each object a source image, a
   scale (side ``28 * scale`` px) and a place. Places are drawn as 64
   candidates per object at once and the first whose stroke box keeps clear of
   the objects already placed (IoU <= ``max_overlap``) is kept; an object with
   no free candidate is left out, and ``counts`` says so.
2. All objects of the batch are resampled onto the canvas in one bilinear
   ``grid_sample`` call, composited by maximum.
3. ``masks`` and ``boxes`` come from the rendered strokes (pixels >= half of
   full intensity), so a box is tight around what is visible, not the 28×28 cell.
4. Optional clutter: ``clutter`` random ``clutter_size`` crops of other images
   per canvas, drawn in the image only (not in masks, boxes or labels), as in
   cluttered MNIST.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import numpy as np
import torch

from cnnkit._errors import invalid_type, invalid_value, unknown_name
from cnnkit.datasets import fashion_mnist, mnist

__all__ = [
    "CanvasBatch",
    "DigitCanvases",
    "boxes_from_xywh",
    "boxes_to_xywh",
    "digit_canvases",
]

_CANDIDATES = 64  # places tried at once per object
_STROKE = 128  # a pixel is stroke at >= half intensity


class CanvasBatch(NamedTuple):
    """One batch of canvases (shapes for ``B`` canvases of ``H×W``, up to ``K`` objects).

    Attributes:
        images: ``(B, H, W, 1)`` uint8.
        boxes: ``(B, K, 4)`` float32 ``(x1, y1, x2, y2)`` pixels (x2, y2 exclusive), 0 where unused.
        labels: ``(B, K)`` int64 source class, ``-1`` where unused.
        masks: ``(B, H, W)`` uint8, 0 = background, ``label + 1`` on an object's strokes.
        counts: ``(B,)`` int64 number of objects on each canvas (the first ``counts`` slots).
    """

    images: np.ndarray
    boxes: np.ndarray
    labels: np.ndarray
    masks: np.ndarray
    counts: np.ndarray


def boxes_to_xywh(boxes: np.ndarray) -> np.ndarray:
    """Convert ``(..., 4)`` ``(x1, y1, x2, y2)`` boxes to COCO ``(x, y, width, height)``."""
    boxes = np.asarray(boxes, dtype=np.float32)
    _check_last_dim(boxes, "boxes")
    return np.concatenate([boxes[..., :2], boxes[..., 2:] - boxes[..., :2]], axis=-1)


def boxes_from_xywh(boxes: np.ndarray) -> np.ndarray:
    """Convert ``(..., 4)`` COCO ``(x, y, width, height)`` boxes to ``(x1, y1, x2, y2)``."""
    boxes = np.asarray(boxes, dtype=np.float32)
    _check_last_dim(boxes, "boxes")
    return np.concatenate([boxes[..., :2], boxes[..., :2] + boxes[..., 2:]], axis=-1)


def _check_last_dim(boxes: np.ndarray, name: str) -> None:
    if boxes.ndim == 0 or boxes.shape[-1] != 4:
        raise invalid_value(
            f"`{name}` must have 4 coordinates in its last axis.",
            expected="an array of shape (..., 4)",
            received={f"{name}.shape": tuple(boxes.shape)},
        )


def _int_range(value: int | tuple[int, int], name: str, low: int) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    ok = len(pair) == 2 and all(isinstance(v, (int, np.integer)) for v in pair)
    if not ok or pair[0] < low or pair[0] > pair[1] or isinstance(value, bool):
        raise invalid_value(
            f"`{name}` must be an integer >= {low} or a (min, max) pair with min <= max.",
            received={name: value},
        )
    return int(pair[0]), int(pair[1])


def _canvas_size(size: int | tuple[int, int]) -> tuple[int, int]:
    pair = (size, size) if isinstance(size, (int, np.integer)) else tuple(size)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and v >= 8 for v in pair):
        raise invalid_value(
            "DigitCanvases: `size` must be an integer >= 8 or a (height, width) pair of them.",
            received={"size": size},
        )
    return int(pair[0]), int(pair[1])


def _float_range(value: float | tuple[float, float], name: str) -> tuple[float, float]:
    pair = (value, value) if isinstance(value, (int, float)) else tuple(value)
    if len(pair) != 2 or not 0 < pair[0] <= pair[1]:
        raise invalid_value(
            f"`{name}` must be a positive number or a (min, max) pair with 0 < min <= max.",
            received={name: value},
        )
    return float(pair[0]), float(pair[1])


def _stroke_boxes(images: np.ndarray) -> np.ndarray:
    """``(N, 4)`` tight ``(x1, y1, x2, y2)`` of each 28×28 image's stroke pixels."""
    on = images >= _STROKE
    cols, rows = on.any(axis=1), on.any(axis=2)
    width = images.shape[2]
    x1, y1 = cols.argmax(axis=1), rows.argmax(axis=1)
    x2 = width - cols[:, ::-1].argmax(axis=1)
    y2 = images.shape[1] - rows[:, ::-1].argmax(axis=1)
    return np.stack([x1, y1, x2, y2], axis=1).astype(np.float32)


def _pairwise_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of ``(B, T, 4)`` candidates against ``(B, K, 4)`` boxes -> ``(B, T, K)``."""
    lt = np.maximum(a[:, :, None, :2], b[:, None, :, :2])
    rb = np.minimum(a[:, :, None, 2:], b[:, None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(axis=-1)
    area_a = (a[..., 2:] - a[..., :2]).prod(axis=-1)[:, :, None]
    area_b = (b[..., 2:] - b[..., :2]).prod(axis=-1)[:, None, :]
    return inter / np.maximum(area_a + area_b - inter, 1e-6)


def _interpolation(out: int, src: int, side, start) -> torch.Tensor:
    """``(M, out, src)`` bilinear weights: ``src`` pixels drawn ``side`` wide from ``start``."""
    side = torch.as_tensor(side, dtype=torch.float32).reshape(-1, 1, 1)
    start = torch.as_tensor(start, dtype=torch.float32).reshape(-1, 1, 1)
    centres = torch.arange(out, dtype=torch.float32).reshape(1, -1, 1) + 0.5
    # Output pixel centre u + 0.5 sits at source coordinate (u + 0.5 - start) * src / side,
    # that is source pixel index coordinate - 0.5.
    where = (centres - start) * (src / side) - 0.5
    return (1 - (where - torch.arange(src, dtype=torch.float32)).abs()).clamp_(min=0)


class DigitCanvases:
    """A seeded, streamed set of canvases made from ``(N, 28, 28)`` uint8 source images.

    Args:
        images: ``(N, h, w)`` uint8 source images (0 = background), e.g. MNIST's.
        labels: ``(N,)`` integer class of each source image.
        size: Canvas side ``S`` (square) or ``(height, width)``. Default 96.
        num_objects: Objects per canvas, an int or an inclusive ``(min, max)``. Default ``(1, 4)``.
        scale: Object side as a multiple of the source side, drawn uniformly from
            ``(min, max)``. Default ``(0.8, 1.6)``.
        max_overlap: Largest IoU allowed between two objects' stroke boxes. Default 0.
        clutter: Clutter fragments per canvas. Default 0.
        clutter_size: Side of a clutter fragment in pixels. Default 8.
        classes: Keep only source images of these classes (e.g. ``range(5)``). Default: all.
        batch_size: Canvases per batch. Default 64.
        num_canvases: Canvases in the set (the last batch may be short). Default 10,000.
        seed: Batch ``i`` is drawn from ``numpy.random.default_rng([seed, i])``. Default 0.
    """

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        *,
        size: int | tuple[int, int] = 96,
        num_objects: int | tuple[int, int] = (1, 4),
        scale: float | tuple[float, float] = (0.8, 1.6),
        max_overlap: float = 0.0,
        clutter: int = 0,
        clutter_size: int = 8,
        classes: list[int] | range | None = None,
        batch_size: int = 64,
        num_canvases: int = 10_000,
        seed: int = 0,
    ) -> None:
        images, labels = np.asarray(images), np.asarray(labels)
        if images.dtype != np.uint8 or images.ndim != 3:
            raise invalid_type(
                "DigitCanvases: `images` must be a uint8 array of single-channel images.",
                expected="shape (N, height, width), dtype uint8",
                received={"images.shape": images.shape, "images.dtype": str(images.dtype)},
            )
        if labels.shape != (len(images),):
            raise invalid_value(
                "DigitCanvases: `labels` must hold one class per image.",
                expected=f"shape ({len(images)},)",
                received={"labels.shape": labels.shape},
            )
        present = sorted(set(np.unique(labels).tolist()))
        if classes is not None:
            keep = np.isin(labels, list(classes))
            images, labels = images[keep], labels[keep]
        self.height, self.width = _canvas_size(size)
        self.num_objects = _int_range(num_objects, "num_objects", 1)
        self.scale = _float_range(scale, "scale")
        self.clutter = _int_range(clutter, "clutter", 0)[0]
        self.clutter_size = _int_range(clutter_size, "clutter_size", 1)[0]
        self.batch_size = _int_range(batch_size, "batch_size", 1)[0]
        self.num_canvases = _int_range(num_canvases, "num_canvases", 1)[0]
        if len(images) == 0:
            raise invalid_value(
                "DigitCanvases: no source image has a class in `classes`.",
                received={"classes": classes},
                choices=present,
            )
        if images.shape[1] * self.scale[1] > min(self.height, self.width):
            raise invalid_value(
                "DigitCanvases: the largest object must fit on the canvas.",
                expected=f"source side {images.shape[1]} * max scale <= canvas side",
                received={"size": size, "scale": scale},
            )
        if not 0.0 <= max_overlap <= 1.0:
            raise invalid_value(
                "DigitCanvases: `max_overlap` must be an IoU in [0, 1].",
                received={"max_overlap": max_overlap},
            )
        self.max_overlap = float(max_overlap)
        self.seed = int(seed)
        self._glyphs = torch.from_numpy(np.ascontiguousarray(images))
        self._labels = labels.astype(np.int64)
        self._glyph_boxes = _stroke_boxes(images)

    def __len__(self) -> int:
        """Number of batches."""
        return -(-self.num_canvases // self.batch_size)

    def __iter__(self) -> Iterator[CanvasBatch]:
        for i in range(len(self)):
            yield self.batch(i)

    def take(self, n: int) -> CanvasBatch:
        """The first ``n`` canvases (as the batches would give them), concatenated."""
        n = _int_range(n, "n", 1)[0]
        parts = [self.batch(i) for i in range(-(-n // self.batch_size))]
        return CanvasBatch(*(np.concatenate(field)[:n] for field in zip(*parts, strict=True)))

    def batch(self, index: int) -> CanvasBatch:
        """Batch ``index`` (``0 <= index < len(self)``), a pure function of ``(seed, index)``."""
        if not isinstance(index, (int, np.integer)) or not 0 <= index < len(self):
            raise invalid_value(
                "DigitCanvases.batch: `index` must be a batch number.",
                expected=f"an integer in [0, {len(self)})",
                received={"index": index},
            )
        size = min(self.batch_size, self.num_canvases - index * self.batch_size)
        rng = np.random.default_rng([self.seed, int(index)])
        return self._render(rng, size)

    def _place(self, rng: np.random.Generator, b: int, k: int):
        """Draw sources, sides and places: ``(B, K)`` index, side, x0, y0 and a placed flag."""
        lo, hi = self.num_objects
        wanted = rng.integers(lo, hi + 1, size=b)
        source = rng.integers(0, len(self._labels), size=(b, k))
        side = rng.uniform(*self.scale, size=(b, k)) * self._glyphs.shape[1]
        frac = self._glyph_boxes[source] / self._glyphs.shape[1]  # stroke box in cell units
        x0 = np.zeros((b, k))
        y0 = np.zeros((b, k))
        placed = np.zeros((b, k), dtype=bool)
        boxes = np.zeros((b, k, 4))
        for j in range(k):  # objects one after another; canvases and candidates at once
            s = side[:, j, None]
            cx = rng.uniform(0, 1, size=(b, _CANDIDATES)) * (self.width - s)
            cy = rng.uniform(0, 1, size=(b, _CANDIDATES)) * (self.height - s)
            cand = np.stack([cx, cy, cx, cy], axis=-1) + frac[:, j, None, :] * s[..., None]
            clash = _pairwise_iou(cand, boxes[:, :j]) > self.max_overlap
            clash &= placed[:, None, :j]
            free = ~clash.any(axis=-1)
            first = free.argmax(axis=1)
            rows = np.arange(b)
            ok = free[rows, first] & (j < wanted)
            x0[:, j], y0[:, j] = cx[rows, first], cy[rows, first]
            boxes[:, j] = np.where(ok[:, None], cand[rows, first], 0.0)
            placed[:, j] = ok
        return source, side, x0, y0, placed

    def _paste(self, glyphs: torch.Tensor, side, x0, y0) -> torch.Tensor:
        """Resample ``(M, h, w)`` glyphs to ``(M, H, W)`` float canvases at the given places.

        Bilinear with zeros outside, as ``grid_sample``; the transform is a scale
        and a shift per axis, so it is two batched matrix products with
        ``(M, H, h)`` and ``(M, W, w)`` interpolation weights (5x faster than a grid).
        """
        rows = _interpolation(self.height, glyphs.shape[1], side, y0)
        cols = _interpolation(self.width, glyphs.shape[2], side, x0)
        return rows @ glyphs.to(torch.float32) @ cols.transpose(1, 2)

    def _render(self, rng: np.random.Generator, b: int) -> CanvasBatch:
        k = self.num_objects[1]
        source, side, x0, y0, placed = self._place(rng, b, k)
        # Unplaced slots render an empty glyph so that shapes stay fixed.
        layers = self._paste(self._glyphs[source.reshape(-1)], side, x0, y0)
        layers = layers.reshape(b, k, self.height, self.width)
        layers *= torch.from_numpy(placed).to(layers.dtype)[:, :, None, None]
        layers.round_()  # the stroke test then agrees with the uint8 image
        image = layers.amax(dim=1)
        stroke = layers >= _STROKE
        masks = torch.zeros(b, self.height, self.width, dtype=torch.uint8)
        labels = np.where(placed, self._labels[source], -1)
        for j in range(k):  # later objects lie on top, as in the image's maximum
            cls = torch.from_numpy(labels[:, j] + 1).to(torch.uint8)[:, None, None]
            masks = torch.where(stroke[:, j], cls, masks)
        boxes = self._boxes_from_strokes(stroke) * placed[..., None]
        if self.clutter:
            image = torch.maximum(image, self._clutter(rng, b))
        # Objects come first in each row, so the first `counts` slots are the objects.
        order = np.argsort(~placed, axis=1, kind="stable")
        return CanvasBatch(
            images=image.round().clamp(0, 255).to(torch.uint8).numpy()[..., None],
            boxes=np.take_along_axis(boxes, order[..., None], axis=1).astype(np.float32),
            labels=np.take_along_axis(labels, order, axis=1),
            masks=masks.numpy(),
            counts=placed.sum(axis=1).astype(np.int64),
        )

    def _boxes_from_strokes(self, stroke: torch.Tensor) -> np.ndarray:
        """``(B, K, H, W)`` stroke masks -> ``(B, K, 4)`` tight boxes (0 for empty)."""
        cols, rows = stroke.any(dim=2), stroke.any(dim=3)
        x1 = cols.to(torch.uint8).argmax(dim=-1)
        y1 = rows.to(torch.uint8).argmax(dim=-1)
        x2 = self.width - cols.flip(-1).to(torch.uint8).argmax(dim=-1)
        y2 = self.height - rows.flip(-1).to(torch.uint8).argmax(dim=-1)
        boxes = torch.stack([x1, y1, x2, y2], dim=-1).to(torch.float32)
        return (boxes * cols.any(dim=-1, keepdim=True)).numpy()

    def _clutter(self, rng: np.random.Generator, b: int) -> torch.Tensor:
        """``(B, H, W)`` float canvases of random crops of random source images."""
        c, f = self.clutter, self.clutter_size
        n, h, w = self._glyphs.shape
        pick = rng.integers(0, n, size=b * c)
        top = rng.integers(0, max(h - f, 0) + 1, size=b * c)
        left = rng.integers(0, max(w - f, 0) + 1, size=b * c)
        rows = np.clip(top[:, None] + np.arange(f), 0, h - 1)
        cols = np.clip(left[:, None] + np.arange(f), 0, w - 1)
        crops = self._glyphs[pick[:, None, None], rows[:, :, None], cols[:, None, :]]
        x0 = rng.uniform(0, self.width - f, size=b * c)
        y0 = rng.uniform(0, self.height - f, size=b * c)
        layers = self._paste(crops, np.full(b * c, float(f)), x0, y0)
        return layers.reshape(b, c, self.height, self.width).amax(dim=1)


_SOURCES = ("mnist", "fashion_mnist")
_SPLITS = ("train", "test")


def digit_canvases(dataset: str = "mnist", split: str = "train", **kwargs) -> DigitCanvases:
    """Canvases made from MNIST or Fashion-MNIST (loaded with their ``load_data()``).

    Args:
        dataset: ``"mnist"`` or ``"fashion_mnist"``.
        split: ``"train"`` (the 60,000 training images) or ``"test"`` (the 10,000 test
            images), so train and test canvases never share a source image.
        **kwargs: As for :class:`DigitCanvases` (``size``, ``num_objects``, ``seed``, ...).
    """
    if dataset not in _SOURCES:
        raise unknown_name("canvas dataset", dataset, _SOURCES, argument="dataset")
    if split not in _SPLITS:
        raise unknown_name("split", split, _SPLITS, argument="split")
    module = mnist if dataset == "mnist" else fashion_mnist
    train, test = module.load_data()
    images, labels = train if split == "train" else test
    return DigitCanvases(images, labels, **kwargs)

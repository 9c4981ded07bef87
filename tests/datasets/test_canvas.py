"""The digits-on-a-canvas generator: determinism, geometry, masks, clutter and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnkit.datasets import (
    CanvasBatch,
    DigitCanvases,
    boxes_from_xywh,
    boxes_to_xywh,
    digit_canvases,
)


def _glyphs(n: int = 50, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Filled rectangles of random sizes inside 28×28, one class per image."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 28, 28), np.uint8)
    for i in range(n):
        y, x = rng.integers(2, 10, 2)
        h, w = rng.integers(6, 16, 2)
        images[i, y : y + h, x : x + w] = 255
    return images, np.arange(n) % 10


@pytest.fixture
def canvases() -> DigitCanvases:
    images, labels = _glyphs()
    return DigitCanvases(images, labels, size=64, scale=(0.8, 1.2), batch_size=16, seed=3)


def test_batches_are_deterministic_and_independent_of_order(canvases):
    later = canvases.batch(2)
    first = canvases.batch(0)
    again = DigitCanvases(*_glyphs(), size=64, scale=(0.8, 1.2), batch_size=16, seed=3)
    for a, b in zip(first, again.batch(0), strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(later, again.batch(2), strict=True):
        np.testing.assert_array_equal(a, b)
    other = DigitCanvases(*_glyphs(), size=64, scale=(0.8, 1.2), batch_size=16, seed=4)
    assert not np.array_equal(first.images, other.batch(0).images)


def test_shapes_dtypes_and_padding(canvases):
    b = canvases.batch(0)
    assert isinstance(b, CanvasBatch)
    assert b.images.shape == (16, 64, 64, 1) and b.images.dtype == np.uint8
    assert b.boxes.shape == (16, 4, 4) and b.boxes.dtype == np.float32
    assert b.labels.shape == (16, 4) and b.masks.shape == (16, 64, 64)
    assert ((b.counts >= 1) & (b.counts <= 4)).all()
    slots = np.arange(4)[None, :] < b.counts[:, None]
    assert (b.labels[~slots] == -1).all() and (b.boxes[~slots] == 0).all()
    assert (b.labels[slots] >= 0).all()


def test_boxes_are_tight_around_each_objects_mask(canvases):
    b = canvases.batch(1)
    for i in range(len(b.counts)):
        for k in range(b.counts[i]):
            x1, y1, x2, y2 = b.boxes[i, k].astype(int)
            assert 0 <= x1 < x2 <= 64 and 0 <= y1 < y2 <= 64
            inside = b.masks[i, y1:y2, x1:x2] == b.labels[i, k] + 1
            # Objects do not overlap (max_overlap=0), so the box's edges touch its strokes.
            assert inside[0].any() and inside[-1].any() and inside[:, 0].any()
            assert inside[:, -1].any()
        # Every stroke pixel of the image is in the mask, and every mask pixel is bright.
        np.testing.assert_array_equal(b.masks[i] > 0, b.images[i, ..., 0] >= 128)


def test_non_overlap_and_object_counts_are_honoured():
    images, labels = _glyphs()
    c = DigitCanvases(images, labels, size=96, num_objects=3, scale=1.0, num_canvases=64)
    b = c.take(64)
    assert (b.counts == 3).all()
    for boxes in b.boxes:
        for i in range(3):
            for j in range(i + 1, 3):
                lt = np.maximum(boxes[i, :2], boxes[j, :2])
                rb = np.minimum(boxes[i, 2:], boxes[j, 2:])
                assert (rb - lt).min() <= 0


def test_take_and_iteration_stream_the_same_canvases():
    images, labels = _glyphs()
    c = DigitCanvases(images, labels, size=64, scale=1.0, batch_size=8, num_canvases=20)
    assert len(c) == 3
    streamed = list(c)
    assert [len(b.counts) for b in streamed] == [8, 8, 4]
    whole = c.take(20)
    np.testing.assert_array_equal(whole.images, np.concatenate([b.images for b in streamed]))


def test_paste_matches_grid_sample():
    images, labels = _glyphs()
    c = DigitCanvases(images, labels, size=(48, 64), scale=(0.5, 1.5))
    rng = np.random.default_rng(0)
    side = rng.uniform(14, 42, 6)
    x0, y0 = rng.uniform(-5, 40, 6), rng.uniform(-5, 20, 6)
    glyphs = torch.from_numpy(images[:6])
    theta = torch.zeros(6, 2, 3)
    s, x, y = (torch.tensor(v, dtype=torch.float32) for v in (side, x0, y0))
    theta[:, 0, 0], theta[:, 0, 2] = 64 / s, (64 - 2 * x) / s - 1
    theta[:, 1, 1], theta[:, 1, 2] = 48 / s, (48 - 2 * y) / s - 1
    grid = F.affine_grid(theta, [6, 1, 48, 64], align_corners=False)
    ref = F.grid_sample(glyphs[:, None].float(), grid, align_corners=False)[:, 0]
    np.testing.assert_allclose(
        c._paste(glyphs, side, x0, y0).numpy(), ref.numpy(), rtol=1e-5, atol=1e-2
    )


def test_clutter_draws_in_the_image_only():
    images, labels = _glyphs()
    kwargs = dict(size=64, num_objects=1, scale=1.0, batch_size=8, seed=1)
    plain = DigitCanvases(images, labels, **kwargs).batch(0)
    cluttered = DigitCanvases(images, labels, clutter=6, **kwargs).batch(0)
    np.testing.assert_array_equal(plain.masks, cluttered.masks)
    np.testing.assert_array_equal(plain.boxes, cluttered.boxes)
    assert (cluttered.images >= plain.images).all()
    assert cluttered.images.sum() > plain.images.sum()


def test_classes_filter_keeps_only_those_labels():
    images, labels = _glyphs()
    b = DigitCanvases(images, labels, size=64, scale=1.0, classes=[2, 7]).batch(0)
    assert set(np.unique(b.labels[b.labels >= 0])) <= {2, 7}


def test_xywh_round_trip():
    boxes = np.array([[[1, 2, 11, 7], [0, 0, 3, 3]]], np.float32)
    xywh = boxes_to_xywh(boxes)
    np.testing.assert_array_equal(xywh[0, 0], [1, 2, 10, 5])
    np.testing.assert_array_equal(boxes_from_xywh(xywh), boxes)
    with pytest.raises(ValueError, match=r"last axis.*Received: boxes.shape=\(3,\)"):
        boxes_to_xywh(np.zeros(3))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"size": 20, "scale": 1.0}, "largest object must fit"),
        ({"num_objects": (3, 1)}, r"`num_objects`.*Received: num_objects=\(3, 1\)"),
        ({"scale": (0, 1)}, "`scale` must be a positive"),
        ({"size": (64, 4)}, r"`size`.*Received: size=\(64, 4\)"),
        ({"max_overlap": 2.0}, "`max_overlap` must be an IoU"),
        ({"classes": [42]}, r"no source image.*Received: classes=\[42\].*Valid choices: 0, 1"),
    ],
)
def test_bad_arguments_get_template_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DigitCanvases(*_glyphs(), **kwargs)


def test_bad_images_and_indices():
    with pytest.raises(TypeError, match=r"uint8 array.*Received: images.shape"):
        DigitCanvases(np.zeros((4, 28, 28), np.float32), np.zeros(4))
    with pytest.raises(ValueError, match=r"one class per image.*labels.shape=\(3,\)"):
        DigitCanvases(np.zeros((4, 28, 28), np.uint8), np.zeros(3))
    c = DigitCanvases(*_glyphs(), size=64, scale=1.0, batch_size=10, num_canvases=20)
    with pytest.raises(ValueError, match=r"a batch number.*\[0, 2\).*Received: index=2"):
        c.batch(2)
    with pytest.raises(ValueError, match=r"Unknown canvas dataset 'mnsit'.*Did you mean 'mnist'"):
        digit_canvases("mnsit")


def test_real_mnist_canvases(shared_data, monkeypatch):
    monkeypatch.setenv("CNNKIT_DATA", str(shared_data))
    c = digit_canvases("mnist", split="test", size=96, batch_size=32, num_canvases=32, seed=0)
    b = c.batch(0)
    assert b.counts.mean() > 2.0  # (1, 4) objects: few are left out for lack of room
    assert set(np.unique(b.masks)) <= set(range(11)) and len(np.unique(b.masks)) > 5

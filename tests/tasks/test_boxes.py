"""Box utilities: IoU, NMS against a brute-force greedy loop, encodings and input checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnkit.tasks import batched_nms, box_iou, check_boxes, decode_boxes, encode_boxes, nms


def _random_boxes(rng: np.random.Generator, n: int, size: float = 50.0) -> np.ndarray:
    xy = rng.uniform(0, size, (n, 2))
    wh = rng.uniform(2, size / 2, (n, 2))
    return np.concatenate([xy, xy + wh], axis=1).astype(np.float32)


def _iou_loop(a, b) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union


def _greedy_nms(boxes, scores, threshold) -> list[int]:
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    kept: list[int] = []
    for i in order:
        if all(_iou_loop(boxes[i], boxes[k]) <= threshold for k in kept):
            kept.append(i)
    return kept


def test_box_iou_matches_the_definition():
    rng = np.random.default_rng(0)
    a, b = _random_boxes(rng, 7), _random_boxes(rng, 5)
    want = np.array([[_iou_loop(x, y) for y in b] for x in a])
    np.testing.assert_allclose(box_iou(a, b).numpy(), want, rtol=1e-5, atol=1e-6)
    assert box_iou(a[:1], a[:1]).item() == pytest.approx(1.0)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.7])
def test_nms_matches_brute_force_greedy(seed, threshold):
    rng = np.random.default_rng(seed)
    boxes = _random_boxes(rng, 60)
    scores = rng.permutation(60).astype(np.float32)  # distinct scores: one greedy answer
    assert nms(boxes, scores, threshold).tolist() == _greedy_nms(boxes, scores, threshold)


def test_batched_nms_is_nms_within_each_group():
    rng = np.random.default_rng(1)
    boxes = _random_boxes(rng, 80)
    scores = rng.permutation(80).astype(np.float32)
    groups = rng.integers(0, 4, 80)
    kept = set(batched_nms(boxes, scores, groups, 0.4).tolist())
    want = set()
    for g in range(4):
        idx = np.where(groups == g)[0]
        want |= {int(idx[k]) for k in _greedy_nms(boxes[idx], scores[idx], 0.4)}
    assert kept == want
    # Identical boxes in two groups both survive.
    same = np.array([[0, 0, 10, 10], [0, 0, 10, 10]], np.float32)
    assert sorted(batched_nms(same, [0.9, 0.8], [0, 1]).tolist()) == [0, 1]
    assert nms(same, [0.9, 0.8]).tolist() == [0]
    assert batched_nms(np.zeros((0, 4)), [], []).numel() == 0


def test_encode_decode_round_trip():
    boxes = torch.tensor([[4.0, 8.0, 20.0, 40.0], [0.0, 0.0, 64.0, 32.0]])
    codes = encode_boxes(boxes, (64, 64))
    np.testing.assert_allclose(codes[0].numpy(), [12 / 64, 24 / 64, 16 / 64, 32 / 64])
    np.testing.assert_allclose(decode_boxes(codes, (64, 64)).numpy(), boxes.numpy())


@pytest.mark.parametrize(
    ("boxes", "kwargs", "error", "match"),
    [
        (np.zeros((3, 5)), {}, ValueError, r"4 coordinates.*Received: boxes.shape=\(3, 5\)"),
        ([[5, 0, 1, 4]], {}, ValueError, r"x2 >= x1.*boxes_from_xywh.*\[5\.0, 0\.0, 1\.0, 4\.0\]"),
        ([[0, 0, 70, 10]], {"image_size": (64, 64)}, ValueError, r"inside the image.*<= 64"),
        ([[-1, 0, 5, 5]], {"image_size": (64, 64)}, ValueError, "inside the image"),
        ([[0, 0, np.nan, 1]], {}, ValueError, "must be finite"),
        ([["a", "b", "c", "d"]], {}, TypeError, "must be an array of numbers"),
    ],
)
def test_bad_boxes_get_template_errors(boxes, kwargs, error, match):
    with pytest.raises(error, match=match):
        check_boxes(boxes, **kwargs)


def test_nms_refuses_mismatched_scores():
    with pytest.raises(ValueError, match=r"nms: `boxes` must be \(N, 4\).*scores.shape=\(2,\)"):
        nms(np.zeros((3, 4)), [0.1, 0.2])

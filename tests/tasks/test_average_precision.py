"""mAP@0.5 and mAP@[.5:.95] against pycocotools' COCOeval on random detections."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

from cnnkit.datasets import boxes_to_xywh
from cnnkit.tasks import mean_average_precision

pycocotools = pytest.importorskip("pycocotools", reason="pycocotools is a dev-only reference")
from pycocotools.coco import COCO  # noqa: E402
from pycocotools.cocoeval import COCOeval  # noqa: E402


def _scene(rng: np.random.Generator, images: int, classes: int):
    truth_boxes, truth_labels, boxes, scores, labels = [], [], [], [], []
    for _ in range(images):
        g = rng.integers(0, 6)
        xy = rng.uniform(0, 80, (g, 2))
        tb = np.concatenate([xy, xy + rng.uniform(5, 30, (g, 2))], 1)
        tl = rng.integers(0, classes, g)
        # Detections: jittered copies of some truths (some with a wrong class), plus strays.
        keep = rng.random(g) < 0.8
        jitter = tb[keep] + rng.normal(0, 3, (keep.sum(), 4))
        jitter[:, 2:] = np.maximum(jitter[:, 2:], jitter[:, :2] + 1)
        strays_xy = rng.uniform(0, 80, (rng.integers(0, 4), 2))
        strays = np.concatenate([strays_xy, strays_xy + rng.uniform(5, 30, strays_xy.shape)], 1)
        db = np.concatenate([jitter, strays]).astype(np.float32)
        dl = np.concatenate([np.where(rng.random(keep.sum()) < 0.9, tl[keep], 0),
                             rng.integers(0, classes, len(strays))])  # fmt: skip
        truth_boxes.append(tb.astype(np.float32))
        truth_labels.append(tl)
        boxes.append(db)
        labels.append(dl)
        scores.append(rng.random(len(db)).astype(np.float32))
    return boxes, scores, labels, truth_boxes, truth_labels


def _coco(boxes, scores, labels, truth_boxes, truth_labels, classes) -> tuple[float, float]:
    images = [{"id": i, "width": 128, "height": 128} for i in range(len(truth_boxes))]
    annotations = []
    for i, (tb, tl) in enumerate(zip(truth_boxes, truth_labels, strict=True)):
        for box, label in zip(boxes_to_xywh(tb), tl, strict=True):
            ann = {"image_id": i, "category_id": int(label), "bbox": box.tolist()}
            ann |= {"id": len(annotations) + 1, "area": float(box[2] * box[3]), "iscrowd": 0}
            annotations.append(ann)
    gt = COCO()
    gt.dataset = {"images": images, "annotations": annotations,
                  "categories": [{"id": c} for c in range(classes)]}  # fmt: skip
    results = [{"image_id": i, "category_id": int(label), "bbox": box.tolist(), "score": float(s)}
               for i, (db, ds, dl) in enumerate(zip(boxes, scores, labels, strict=True))
               for box, s, label in zip(boxes_to_xywh(db), ds, dl, strict=True)]  # fmt: skip
    with contextlib.redirect_stdout(io.StringIO()):
        gt.createIndex()
        evaluator = COCOeval(gt, gt.loadRes(results), "bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return float(evaluator.stats[0]), float(evaluator.stats[1])


@pytest.mark.parametrize("seed", range(4))
def test_map_matches_pycocotools(seed):
    rng = np.random.default_rng(seed)
    scene = _scene(rng, images=30, classes=4)
    ours = mean_average_precision(*scene)
    coco_map, coco_map50 = _coco(*scene, classes=4)
    assert ours["map"] == pytest.approx(coco_map, abs=1e-6)
    assert ours["map_50"] == pytest.approx(coco_map50, abs=1e-6)
    assert 0.05 < ours["map"] < ours["map_50"] < 1.0  # a non-trivial case


def test_perfect_and_empty_detections():
    truth = [np.array([[0, 0, 10, 10], [20, 20, 40, 30]], np.float32)]
    labels = [np.array([1, 2])]
    perfect = mean_average_precision(truth, [np.array([0.9, 0.8])], labels, truth, labels)
    assert perfect["map"] == pytest.approx(1.0) and perfect["per_class"] == {1: 1.0, 2: 1.0}
    none = mean_average_precision([np.zeros((0, 4))], [np.zeros(0)], [np.zeros(0)], truth, labels)
    assert none["map"] == 0.0


def test_bad_inputs_get_template_errors():
    truth = [np.array([[0, 0, 10, 10]], np.float32)]
    with pytest.raises(ValueError, match=r"no box, so AP is undefined.*true boxes=0"):
        mean_average_precision([np.zeros((0, 4))], [[]], [[]], [np.zeros((0, 4))], [[]])
    with pytest.raises(ValueError, match=r"`pred_scores` must be a list with one entry per image"):
        mean_average_precision(truth, [], [[0]], truth, [[0]])
    with pytest.raises(ValueError, match=r"one score and one label per box.*scores=2"):
        mean_average_precision(truth, [[0.5, 0.4]], [[0]], truth, [[0]])
    with pytest.raises(ValueError, match=r"x2 >= x1"):
        mean_average_precision([np.array([[5, 5, 1, 1]])], [[0.5]], [[0]], truth, [[0]])

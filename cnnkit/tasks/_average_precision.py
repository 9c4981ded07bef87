"""Mean average precision computed as COCO computes it (``pycocotools.COCOeval``, bbox, area "all").

For each class and IoU threshold: every image's detections of that class,
at most ``max_detections`` by score, are matched greedily by falling score to
the unmatched ground-truth box of highest IoU (>= the threshold); all images'
detections are then ranked by score (a stable sort, ties in image order),
precision is made non-increasing from the right, and read at the 101 recall
points 0, 0.01, ..., 1 (0 beyond the highest recall reached). AP is the mean
of those 101 values; mAP the mean over the classes that have ground truth.
The tests check it against ``pycocotools`` on random boxes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from cnnkit._errors import invalid_value
from cnnkit.tasks._boxes import box_iou, check_boxes

__all__ = ["COCO_IOU_THRESHOLDS", "mean_average_precision"]

COCO_IOU_THRESHOLDS = tuple(np.round(np.linspace(0.5, 0.95, 10), 2).tolist())
_RECALL_POINTS = np.linspace(0.0, 1.0, 101)


def _as_list(name: str, value: Sequence[Any], n: int | None) -> list[Any]:
    if not isinstance(value, (list, tuple)) or (n is not None and len(value) != n):
        raise invalid_value(
            f"mean_average_precision: `{name}` must be a list with one entry per image.",
            expected="a list" if n is None else f"a list of {n}",
            received={name: type(value).__name__ if n is None else len(value)},
        )
    return list(value)


def _match(iou: np.ndarray, threshold: float) -> np.ndarray:
    """COCO's greedy matching of score-ordered detections (rows) to ground truth (columns)."""
    matched = np.zeros(iou.shape[0], dtype=bool)
    taken = np.zeros(iou.shape[1], dtype=bool)
    limit = min(threshold, 1 - 1e-10)
    for d in range(iou.shape[0]):
        candidates = np.where(taken, -1.0, iou[d])
        g = int(candidates.argmax()) if candidates.size else -1
        if g >= 0 and candidates[g] >= limit:
            matched[d] = taken[g] = True
    return matched


def _average_precision(scores: np.ndarray, matched: np.ndarray, num_truth: int) -> float:
    order = np.argsort(-scores, kind="mergesort")
    tp = np.cumsum(matched[order])
    fp = np.cumsum(~matched[order])
    recall = tp / num_truth
    precision = tp / np.maximum(tp + fp, np.spacing(1))
    precision = np.maximum.accumulate(precision[::-1])[::-1]  # the envelope from the right
    at = np.searchsorted(recall, _RECALL_POINTS, side="left")
    sampled = np.where(at < len(precision), precision[np.minimum(at, len(precision) - 1)], 0.0)
    return float(sampled.mean())


def mean_average_precision(
    pred_boxes: Sequence[Any],
    pred_scores: Sequence[Any],
    pred_labels: Sequence[Any],
    true_boxes: Sequence[Any],
    true_labels: Sequence[Any],
    *,
    iou_thresholds: Sequence[float] = COCO_IOU_THRESHOLDS,
    max_detections: int = 100,
) -> dict[str, Any]:
    """COCO-style mAP of per-image detections.

    Args:
        pred_boxes: One ``(D_i, 4)`` array of ``(x1, y1, x2, y2)`` boxes per image.
        pred_scores: One ``(D_i,)`` array of scores per image.
        pred_labels: One ``(D_i,)`` array of integer classes per image.
        true_boxes: One ``(G_i, 4)`` array of ground-truth boxes per image.
        true_labels: One ``(G_i,)`` array of ground-truth classes per image.
        iou_thresholds: Default COCO's 0.5, 0.55, ..., 0.95.
        max_detections: Per image and class, as COCO's ``maxDets``. Default 100.

    Returns:
        ``{"map": mean over thresholds, "map_50": at IoU 0.5 (if among the thresholds),
        "map_75": at 0.75 (likewise), "per_threshold": {t: mAP}, "per_class": {c: AP over
        thresholds}}``.

    Raises:
        ValueError: Lists of different lengths, malformed boxes, or no ground truth at all.
    """
    n = len(_as_list("true_boxes", true_boxes, None))
    lists = [
        _as_list(k, v, n)
        for k, v in [
            ("pred_boxes", pred_boxes),
            ("pred_scores", pred_scores),
            ("pred_labels", pred_labels),
            ("true_labels", true_labels),
        ]
    ]
    per_image = []
    for i, (pb, ps, pl, tl) in enumerate(zip(*lists, strict=True)):
        pb = check_boxes(np.reshape(np.asarray(pb, np.float32), (-1, 4)), name="pred_boxes")
        tb = check_boxes(
            np.reshape(np.asarray(true_boxes[i], np.float32), (-1, 4)), name="true_boxes"
        )
        pb, tb = pb.numpy(), tb.numpy()
        ps, pl, tl = (np.asarray(v).reshape(-1) for v in (ps, pl, tl))
        if len(ps) != len(pb) or len(pl) != len(pb) or len(tl) != len(tb):
            raise invalid_value(
                "mean_average_precision: each image needs one score and one label per box.",
                received={"image": i, "boxes": len(pb), "scores": len(ps), "labels": len(pl)},
            )
        per_image.append((pb, ps.astype(np.float64), pl.astype(np.int64), tb, tl.astype(np.int64)))
    classes = sorted({int(c) for *_, tl in per_image for c in tl})
    if not classes:
        raise invalid_value(
            "mean_average_precision: the ground truth holds no box, so AP is undefined.",
            received={"images": n, "true boxes": 0},
        )
    table = np.zeros((len(iou_thresholds), len(classes)))
    for c_index, c in enumerate(classes):
        num_truth = sum(int((tl == c).sum()) for *_, tl in per_image)
        scores, matches = [], [[] for _ in iou_thresholds]
        for pb, ps, pl, tb, tl in per_image:
            keep = np.where(pl == c)[0]
            keep = keep[np.argsort(-ps[keep], kind="mergesort")][:max_detections]
            if not len(keep):
                continue
            iou = box_iou(pb[keep], tb[tl == c]).numpy()
            scores.append(ps[keep])
            for t_index, t in enumerate(iou_thresholds):
                matches[t_index].append(_match(iou, t))
        if not scores:
            continue  # detections never made for this class: AP 0
        all_scores = np.concatenate(scores)
        for t_index in range(len(iou_thresholds)):
            table[t_index, c_index] = _average_precision(
                all_scores, np.concatenate(matches[t_index]), num_truth
            )
    thresholds = [round(float(t), 2) for t in iou_thresholds]
    result: dict[str, Any] = {
        "map": float(table.mean()),
        "per_threshold": dict(zip(thresholds, table.mean(axis=1).tolist(), strict=True)),
        "per_class": dict(zip(classes, table.mean(axis=0).tolist(), strict=True)),
    }
    for t, key in ((0.5, "map_50"), (0.75, "map_75")):
        if t in thresholds:
            result[key] = result["per_threshold"][t]
    return result

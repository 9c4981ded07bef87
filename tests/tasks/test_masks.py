"""Mask IoU, Dice and per-class segmentation scores against direct set arithmetic."""

from __future__ import annotations

import numpy as np
import pytest

from cnnkit.tasks import dice_score, mask_iou, segmentation_scores


def test_binary_iou_and_dice():
    a = np.zeros((2, 8, 8), bool)
    b = np.zeros((2, 8, 8), bool)
    a[0, :4, :4] = True  # 16 pixels
    b[0, 2:6, :4] = True  # 16 pixels, 8 shared
    iou, dice = mask_iou(a, b), dice_score(a, b)
    assert iou[0].item() == pytest.approx(8 / 24) and dice[0].item() == pytest.approx(16 / 32)
    assert iou[1].item() == 1.0 and dice[1].item() == 1.0  # both empty


def test_segmentation_scores_match_per_class_sets():
    rng = np.random.default_rng(0)
    true = rng.integers(0, 4, (3, 16, 16))
    pred = np.where(rng.random(true.shape) < 0.7, true, rng.integers(0, 4, true.shape))
    got = segmentation_scores(true, pred, num_classes=5)  # class 4 absent everywhere
    for c in range(4):
        t, p = true == c, pred == c
        assert got["iou"][c] == pytest.approx((t & p).sum() / (t | p).sum())
        assert got["dice"][c] == pytest.approx(2 * (t & p).sum() / (t.sum() + p.sum()))
    assert np.isnan(got["iou"][4])
    assert got["mean_iou"] == pytest.approx(np.mean(got["iou"][:4]))
    assert got["pixel_accuracy"] == pytest.approx((true == pred).mean())


def test_bad_masks_get_template_errors():
    with pytest.raises(ValueError, match=r"same shape.*y_true.shape=\(2, 8, 8\).*\(2, 8, 9\)"):
        mask_iou(np.zeros((2, 8, 8), bool), np.zeros((2, 8, 9), bool))
    with pytest.raises(TypeError, match="boolean or integer"):
        dice_score(np.zeros((8, 8)), np.zeros((8, 8)))
    with pytest.raises(ValueError, match=r"classes outside \[0, 3\).*max\(y_pred\)=5"):
        segmentation_scores(np.zeros((4, 4), int), np.full((4, 4), 5), num_classes=3)

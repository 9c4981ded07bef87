"""Keras' extra metrics and the Keras metric API (update_state / result / reset_state)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import jaccard_score, mean_absolute_error, mean_squared_error

from cnnkit import metrics

RNG = np.random.default_rng(5)


def test_plain_mean_averages_given_values_with_weights_and_resets():
    tracker = metrics.Mean(name="loss")
    tracker.update_state(torch.tensor(2.0))
    tracker.update_state(np.array([4.0, 6.0]))
    assert tracker.result().item() == pytest.approx(4.0)
    tracker.reset_state()
    tracker.update_state([1.0, 3.0], sample_weight=[3.0, 1.0])
    assert tracker.result().item() == pytest.approx(1.5)
    tracker.reset_states()
    assert tracker.result_float() == 0.0


def test_regression_metrics_match_scikit_learn():
    y, p = RNG.normal(size=(40, 3)), RNG.normal(size=(40, 3))
    mae = metrics.MeanAbsoluteError()
    mse = metrics.get("mse")
    for lo, hi in ((0, 25), (25, 40)):  # two batches accumulate into one mean
        mae.update_state(y[lo:hi], p[lo:hi])
        mse.update_state(y[lo:hi], p[lo:hi])
    assert mae.result().item() == pytest.approx(mean_absolute_error(y, p), rel=1e-5)
    assert mse.result().item() == pytest.approx(mean_squared_error(y, p), rel=1e-5)
    assert mse.name == "mse"


def test_cosine_similarity_metric_is_positive_and_logcosh_hand_value():
    cos = metrics.CosineSimilarity()
    cos.update_state([[1.0, 0.0], [0.0, 2.0]], [[2.0, 0.0], [0.0, -1.0]])
    assert cos.result().item() == pytest.approx(0.0)  # (1 + -1) / 2
    log_cosh = metrics.LogCoshError()
    log_cosh.update_state([[0.0]], [[1.0]])
    assert log_cosh.result().item() == pytest.approx(np.log(np.cosh(1.0)), rel=1e-6)


def test_mean_iou_matches_scikit_learn_jaccard_and_ignores_a_class():
    y = RNG.integers(0, 4, size=(6, 8, 8))
    scores = RNG.normal(size=(6, 8, 8, 4))
    scores[..., 0] += 2 * (y == 0)  # some signal, so the IoUs differ between classes
    pred = scores.argmax(-1)
    iou = metrics.MeanIoU(num_classes=4, sparse_y_pred=False)
    iou.update_state(y[:3], scores[:3])
    iou.update_state(y[3:], scores[3:])
    expected = jaccard_score(y.ravel(), pred.ravel(), average="macro")
    assert iou.result().item() == pytest.approx(expected, rel=1e-5)
    assert iou.confusion_matrix().sum().item() == y.size
    ignored = metrics.MeanIoU(num_classes=4, ignore_class=3)
    ignored.update_state(y, pred)
    keep = y.ravel() != 3
    labels = [0, 1, 2, 3]
    per_class = jaccard_score(y.ravel()[keep], pred.ravel()[keep], average=None, labels=labels)
    present = np.isin(labels, np.unique(np.r_[y.ravel()[keep], pred.ravel()[keep]]))
    assert ignored.result().item() == pytest.approx(per_class[present].mean(), rel=1e-5)


def test_mean_iou_hand_value():
    # labels [0, 0, 1, 1], predictions [0, 1, 1, 1]: IoU0 = 1/2, IoU1 = 2/3
    iou = metrics.MeanIoU(num_classes=2)
    iou.update_state([0, 0, 1, 1], [0, 1, 1, 1])
    assert iou.result().item() == pytest.approx((0.5 + 2 / 3) / 2)


def test_bad_metric_arguments_raise_template_errors():
    with pytest.raises(ValueError, match=r"`num_classes` must be an integer >= 2.*num_classes=1"):
        metrics.MeanIoU(num_classes=1)
    iou = metrics.MeanIoU(num_classes=3)
    with pytest.raises(ValueError, match=r"different numbers of class ids.*sparse_y_pred=False"):
        iou.update_state([0, 1], np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"metric 'maee'.*Did you mean 'mae'"):
        metrics.get("maee")

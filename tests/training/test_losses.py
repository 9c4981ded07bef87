"""Losses and metrics against hand computations in NumPy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnkit.training import Trainer
from cnnkit.training.losses import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    MeanAbsoluteError,
    MeanSquaredError,
    SparseCategoricalCrossentropy,
    get_loss,
)
from cnnkit.training.metrics import (
    Precision,
    Recall,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    get_metric,
)
from tests.training._models import blobs, cnnkit_mlp

RNG = np.random.default_rng(0)
LOGITS = RNG.normal(size=(6, 4)).astype(np.float32)
LABELS = np.array([0, 3, 1, 1, 2, 0])
ONE_HOT = np.eye(4, dtype=np.float32)[LABELS]


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.asarray(a))


def test_categorical_crossentropy_from_probabilities_and_logits():
    expected = -np.log(_softmax(LOGITS))[np.arange(6), LABELS]
    probs = CategoricalCrossentropy(reduction=None)(_t(ONE_HOT), _t(_softmax(LOGITS)))
    logits = CategoricalCrossentropy(from_logits=True, reduction=None)(_t(ONE_HOT), _t(LOGITS))
    np.testing.assert_allclose(probs.numpy(), expected, rtol=1e-5)
    np.testing.assert_allclose(logits.numpy(), expected, rtol=1e-5)


def test_label_smoothing_mixes_targets_with_uniform():
    smooth = ONE_HOT * 0.9 + 0.1 / 4
    expected = -(smooth * np.log(_softmax(LOGITS))).sum(-1)
    got = CategoricalCrossentropy(from_logits=True, label_smoothing=0.1, reduction=None)(
        _t(ONE_HOT), _t(LOGITS)
    )
    sparse = SparseCategoricalCrossentropy(from_logits=True, label_smoothing=0.1, reduction=None)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5)
    np.testing.assert_allclose(sparse(_t(LABELS), _t(LOGITS)).numpy(), expected, rtol=1e-5)


def test_sparse_crossentropy_matches_categorical():
    expected = -np.log(_softmax(LOGITS))[np.arange(6), LABELS]
    for labels in (LABELS, LABELS[:, None]):
        got = SparseCategoricalCrossentropy(reduction=None)(_t(labels), _t(_softmax(LOGITS)))
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5)


def test_binary_crossentropy_probabilities_logits_and_clipping():
    z = LOGITS[:, :1]
    y = (LABELS[:, None] % 2).astype(np.float32)
    p = 1 / (1 + np.exp(-z))
    expected = -(y * np.log(p) + (1 - y) * np.log(1 - p))[:, 0]
    np.testing.assert_allclose(
        BinaryCrossentropy(reduction=None)(_t(y), _t(p)).numpy(), expected, rtol=1e-5
    )
    with_logits = BinaryCrossentropy(from_logits=True, reduction=None)(_t(y), _t(z))
    np.testing.assert_allclose(with_logits.numpy(), expected, rtol=1e-5)
    # A probability of exactly 0 for the true class is clipped to 1e-7, like Keras.
    clipped = BinaryCrossentropy(reduction=None)(
        _t(np.ones((1, 1), np.float32)), _t(np.zeros((1, 1), np.float32))
    )
    assert clipped.item() == pytest.approx(-np.log(1e-7), rel=1e-4)


def test_regression_losses_average_the_last_axis():
    a, b = LOGITS, LOGITS[::-1].copy()
    np.testing.assert_allclose(
        MeanSquaredError(reduction=None)(_t(a), _t(b)).numpy(), ((a - b) ** 2).mean(-1), rtol=1e-6
    )
    np.testing.assert_allclose(
        MeanAbsoluteError(reduction=None)(_t(a), _t(b)).numpy(), np.abs(a - b).mean(-1), rtol=1e-6
    )
    assert isinstance(get_loss("mse"), MeanSquaredError)


def test_metrics_against_hand_counts():
    probs = _t(_softmax(LOGITS))
    pred = LOGITS.argmax(-1)
    acc = get_metric("accuracy")
    acc.update(_t(LABELS), probs)
    assert acc.result_float() == pytest.approx((pred == LABELS).mean())
    top2 = np.argsort(-LOGITS, -1)[:, :2]
    expected_top2 = np.mean([LABELS[i] in top2[i] for i in range(6)])
    for metric, labels in ((TopKCategoricalAccuracy(k=2), ONE_HOT),
                           (SparseTopKCategoricalAccuracy(k=2), LABELS),
                           (get_metric("top_2_accuracy"), LABELS)):  # fmt: skip
        metric.update(_t(labels), probs)
        assert metric.result_float() == pytest.approx(expected_top2)
    y_bin = np.array([1, 0, 1, 1, 0, 0], np.float32)[:, None]
    p_bin = np.array([0.9, 0.6, 0.4, 0.7, 0.1, 0.2], np.float32)[:, None]
    precision, recall = Precision(), Recall()
    for m in (precision, recall):
        m.update(_t(y_bin), _t(p_bin))
    assert precision.result_float() == pytest.approx(2 / 3)  # TP 2 (0.9, 0.7), FP 1 (0.6)
    assert recall.result_float() == pytest.approx(2 / 3)  # FN 1 (0.4)


def test_metrics_accumulate_over_batches_with_weights():
    acc = get_metric("accuracy")
    acc.update(_t(LABELS[:3]), _t(LOGITS[:3]))
    acc.update(_t(LABELS[3:]), _t(LOGITS[3:]), sample_weight=_t(np.array([2.0, 0.0, 1.0])))
    hit = (LOGITS.argmax(-1) == LABELS).astype(float)
    w = np.array([1, 1, 1, 2, 0, 1.0])
    assert acc.result_float() == pytest.approx((hit * w).sum() / w.sum())


def test_final_softmax_is_trained_from_logits():
    """A saturated softmax gives probability 0; log-softmax still gives the true loss."""
    torch.manual_seed(0)
    model = cnnkit_mlp()
    x, y = blobs(8)
    trainer = Trainer(model, loss="sparse_categorical_crossentropy")
    assert trainer._final is not None and trainer._final.kind == "softmax"
    with torch.no_grad():
        head = model.layers[-1]
        head.weight.mul_(1000.0)
    logits = trainer.predict(x, verbose=0)  # probabilities, the activation is intact
    np.testing.assert_allclose(logits.sum(-1), 1.0, rtol=1e-5)
    with trainer._final.disabled():
        z = model(torch.from_numpy(x).float()).detach().numpy()
    expected = -(
        z
        - z.max(-1, keepdims=True)
        - np.log(np.exp(z - z.max(-1, keepdims=True)).sum(-1, keepdims=True))
    )
    expected = expected[np.arange(8), y].mean()
    got = trainer.evaluate(x, y, verbose=0)
    assert got == pytest.approx(expected, rel=1e-4)
    assert got > 2 * -np.log(1e-7)  # the clipped-probability loss could not exceed 16.1


def test_keras_constructor_arguments_are_honoured_or_refused_by_name():
    from cnnkit.losses import CategoricalCrossentropy, MeanSquaredError

    CategoricalCrossentropy(from_logits=True, reduction="sum_over_batch_size", name="cce", axis=-1)
    MeanSquaredError(reduction="auto", dtype="float32")
    with pytest.raises(ValueError, match=r"`reduction` 'sum' is not supported.*reduction='sum'"):
        CategoricalCrossentropy(reduction="sum")
    with pytest.raises(ValueError, match=r"`axis` 1 is not supported.*-1 \(the last axis\)"):
        CategoricalCrossentropy(axis=1)
    with pytest.raises(
        ValueError, match=r"argument 'label_smothing'.*Did you mean 'label_smoothing'"
    ):
        CategoricalCrossentropy(label_smothing=0.1)

"""The shared monitor helper: direction inference, improvement rule, missing-metric warning."""

from __future__ import annotations

import warnings

import pytest

from cnnkit.callbacks import (
    Callback,
    CosineDecay,
    EarlyStopping,
    LambdaCallback,
    ModelCheckpoint,
    OneCycle,
    ReduceLROnPlateau,
    TensorBoard,
)
from cnnkit.callbacks._monitor import MonitorCallback, infer_mode
from tests.callbacks._fakes import drive, series


@pytest.mark.parametrize(
    ("monitor", "mode"),
    [
        ("loss", "min"),
        ("val_loss", "min"),
        ("accuracy", "max"),
        ("val_accuracy", "max"),
        ("val_acc", "max"),
        ("sparse_categorical_accuracy", "max"),
        ("val_top_k_categorical_accuracy", "max"),
        ("auc", "max"),
        ("val_precision", "max"),
        ("recall", "max"),
        ("f1_score", "max"),
        ("val_mae", "min"),
        ("mean_squared_error", "min"),
        ("val_categorical_crossentropy_loss", "min"),
        ("something_unknown", "min"),
    ],
)
def test_infer_mode(monitor, mode):
    assert infer_mode(monitor) == mode


@pytest.mark.parametrize(
    ("mode", "monitor", "min_delta", "value", "reference", "improves"),
    [
        ("auto", "val_loss", 0.0, 0.9, 1.0, True),
        ("auto", "val_loss", 0.0, 1.0, 1.0, False),
        ("auto", "val_loss", 0.1, 0.95, 1.0, False),  # not better by more than min_delta
        ("auto", "val_loss", 0.1, 0.85, 1.0, True),
        ("auto", "val_loss", -0.1, 0.95, 1.0, False),  # sign of min_delta ignored (Keras)
        ("auto", "val_accuracy", 0.0, 0.9, 0.8, True),
        ("auto", "val_accuracy", 0.05, 0.84, 0.8, False),
        ("min", "val_accuracy", 0.0, 0.7, 0.8, True),  # explicit mode beats the name
        ("max", "val_loss", 0.0, 1.1, 1.0, True),
        ("auto", "val_loss", 0.0, 5.0, None, True),  # nothing to beat yet
    ],
)
def test_is_improvement(mode, monitor, min_delta, value, reference, improves):
    cb = MonitorCallback(monitor=monitor, mode=mode, min_delta=min_delta)
    assert cb.is_improvement(value, reference) is improves


@pytest.mark.parametrize("cls", [EarlyStopping, ReduceLROnPlateau])
def test_missing_metric_warns_once_listing_the_metrics(cls):
    cb = cls(monitor="val_acc", patience=1)
    logs = series("val_accuracy", [0.5, 0.4, 0.3, 0.2], loss=1.0)
    with pytest.warns(RuntimeWarning) as record:
        ran = drive(cb, logs)
    messages = [str(w.message) for w in record if "monitoring" in str(w.message)]
    assert len(messages) == 1
    assert f"{cls.__name__} is monitoring 'val_acc'" in messages[0]
    assert "Available metrics: 'loss', 'val_accuracy'." in messages[0]
    assert "Did you mean 'val_accuracy'?" in messages[0]
    assert ran == 4  # nothing was monitored, so nothing stopped


def test_missing_metric_warning_for_checkpoint_best_only(tmp_path):
    cb = ModelCheckpoint(tmp_path / "m.cnnkit", monitor="val_loss", save_best_only=True)
    with pytest.warns(RuntimeWarning, match=r"monitoring 'val_loss'.*Available metrics: 'loss'"):
        drive(cb, series("loss", [1.0, 0.5]))
    assert cb.model.saved == []


def test_present_metric_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        drive(EarlyStopping(patience=5), series("val_loss", [1.0, 0.5]))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"mode": "maximum"}, ValueError, r"unknown `mode` 'maximum'.*Valid choices: 'auto'"),
        ({"monitor": ""}, TypeError, r"`monitor` must be the name of a metric"),
        ({"monitor": 3}, TypeError, r"Received: monitor=3"),
        ({"min_delta": float("nan")}, ValueError, r"`min_delta` must be a finite number"),
        ({"min_delta": "0.1"}, ValueError, r"Received: min_delta='0.1'"),
        ({"baseline": "low"}, TypeError, r"`baseline` must be a number or None"),
    ],
)
def test_monitor_argument_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        EarlyStopping(**kwargs)


def test_keras2_subclass_overriding_on_batch_end_is_called():
    seen = []

    class Old(Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append((batch, logs["loss"]))

    drive(Old(), series("loss", [1.0]), steps=2, batch_logs=lambda e, b: {"loss": b / 10})
    assert seen == [(0, 0.0), (1, 0.1)]
    assert Old().get_state() == {}


@pytest.mark.parametrize(
    ("make", "needed"),
    [
        (lambda p: ModelCheckpoint(p / "m.cnnkit"), False),
        (lambda p: ModelCheckpoint(p / "m.cnnkit", save_freq=10), True),
        (lambda p: TensorBoard(p), False),
        (lambda p: TensorBoard(p, update_freq=5), True),
        (lambda p: TensorBoard(p, write_steps_per_second=True), True),
        (lambda p: OneCycle(0.1), True),
        (lambda p: CosineDecay(0.1, update="epoch"), False),
        (lambda p: LambdaCallback(on_epoch_end=print), False),
        (lambda p: LambdaCallback(on_batch_end=print), True),
        (lambda p: LambdaCallback(on_train_batch_begin=print), True),
    ],
)
def test_needs_batch_logs_tells_the_engine_which_hooks_matter(tmp_path, make, needed):
    # The engine skips building per-batch logs unless a callback asks for them.
    assert make(tmp_path).needs_batch_logs is needed

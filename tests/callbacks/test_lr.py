"""ReduceLROnPlateau and LearningRateScheduler, table-driven on the optimizer's rates."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from cnnkit.callbacks import Callback, LearningRateScheduler, ReduceLROnPlateau
from tests.callbacks._fakes import FakeModel, drive, series


def _rates_after_each_epoch(cb, logs, lrs=(1.0,)):
    model = FakeModel(lrs=lrs)
    seen: list[list[float]] = []

    class Record(Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(model.lrs())

    drive([cb, Record()], logs, model=model)
    return seen


# (kwargs, monitored values, group-0 rate after each epoch)
PLATEAU_CASES = [
    ({"factor": 0.5, "patience": 1}, [1, 1, 1, 1], [1, 0.5, 0.25, 0.125]),
    ({"factor": 0.5, "patience": 2}, [1, 1, 1, 1, 1], [1, 1, 0.5, 0.5, 0.25]),
    ({"factor": 0.5, "patience": 1, "cooldown": 2}, [1, 1, 1, 1, 1], [1, 0.5, 0.5, 0.25, 0.25]),
    ({"factor": 0.1, "patience": 0, "min_lr": 0.05}, [1, 1, 1, 1], [1, 0.1, 0.05, 0.05]),
    ({"factor": 0.5, "patience": 1}, [1.0, 0.99995, 0.9], [1, 0.5, 0.5]),  # min_delta 1e-4
    ({"factor": 0.5, "patience": 1, "min_delta": 0}, [1.0, 0.99995, 0.9], [1, 1, 1]),
    (
        {"monitor": "val_accuracy", "factor": 0.5, "patience": 1},
        [0.5, 0.6, 0.6, 0.55],
        [1, 1, 0.5, 0.25],
    ),
    (
        {"monitor": "val_accuracy", "mode": "min", "factor": 0.5, "patience": 1},
        [0.5, 0.6],
        [1, 0.5],
    ),
    ({"factor": 0.5, "patience": 1}, [3, 2, 1, 0.5], [1, 1, 1, 1]),  # always improving
]


@pytest.mark.parametrize(("kwargs", "values", "expected"), PLATEAU_CASES)
def test_reduce_lr_on_plateau_table(kwargs, values, expected):
    cb = ReduceLROnPlateau(**kwargs)
    rates = _rates_after_each_epoch(cb, series(kwargs.get("monitor", "val_loss"), values))
    assert [r[0] for r in rates] == pytest.approx(expected)


def test_reduce_keeps_the_ratio_between_param_groups():
    cb = ReduceLROnPlateau(factor=0.5, patience=0, min_lr=0.04)
    rates = _rates_after_each_epoch(cb, series("val_loss", [1, 1, 1]), lrs=(1.0, 0.1))
    assert rates == [[1.0, 0.1], [0.5, 0.05], [0.25, 0.04]]


def test_reduce_verbose_message(capsys):
    drive(
        ReduceLROnPlateau(factor=0.5, patience=0, verbose=1),
        series("val_loss", [1, 1]),
        model=FakeModel(lrs=(0.2,)),
    )
    assert "Epoch 2: ReduceLROnPlateau reducing learning rate to 0.1." in capsys.readouterr().out


def test_reduce_state_resumes():
    values = [1, 1, 1, 1, 1, 1]
    whole = ReduceLROnPlateau(factor=0.5, patience=2, cooldown=1)
    whole_rates = _rates_after_each_epoch(whole, series("val_loss", values))
    first = ReduceLROnPlateau(factor=0.5, patience=2, cooldown=1)
    model = FakeModel(lrs=(1.0,))
    drive(first, series("val_loss", values[:3]), model=model, end=False)
    second = ReduceLROnPlateau(factor=0.5, patience=2, cooldown=1)
    second.set_state(json.loads(json.dumps(first.get_state())))
    drive(second, series("val_loss", values[3:]), model=model, initial_epoch=3)
    assert model.lrs() == whole_rates[-1]
    assert second.get_state() == whole.get_state()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"factor": 1.0}, r"does not support this `factor`.*0 < factor < 1.*Received: factor=1.0"),
        ({"factor": 2}, r"Received: factor=2"),
        ({"factor": 0}, r"Received: factor=0"),
        ({"min_lr": -1e-3}, r"`min_lr` must be a non-negative number"),
        ({"cooldown": -2}, r"`cooldown` must be a whole number"),
        ({"patience": "3"}, r"Received: patience='3'"),
    ],
)
def test_reduce_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ReduceLROnPlateau(**kwargs)


def test_reduce_without_an_optimizer_names_compile():
    cb = ReduceLROnPlateau(patience=0)
    model = FakeModel()
    model.optimizer = None
    with pytest.raises(ValueError, match=r"needs a compiled model.*model.compile"):
        drive(cb, series("val_loss", [1, 1]), model=model)


def _scheduled(schedule, epochs=3, lrs=(1.0,)):
    model = FakeModel(lrs=lrs)
    seen = []

    class Record(Callback):
        def on_epoch_begin(self, epoch, logs=None):
            seen.append(model.lrs())

    drive([LearningRateScheduler(schedule), Record()], [{}] * epochs, model=model)
    return seen


SCHEDULE_CASES = [
    (lambda epoch, lr: lr * 0.5, [[0.5], [0.25], [0.125]]),
    (lambda epoch: 0.1 / (epoch + 1), [[0.1], [0.05], [0.1 / 3]]),
    (lambda epoch, lr: lr if epoch < 2 else lr * 0.1, [[1.0], [1.0], [0.1]]),
    (lambda epoch, lr: np.float32(0.25), [[0.25]] * 3),
    (lambda epoch, lr: torch.tensor(0.5), [[0.5]] * 3),
    (lambda *args: 0.3 * args[0], [[0.0], [0.3], [0.6]]),
]


@pytest.mark.parametrize(("schedule", "expected"), SCHEDULE_CASES)
def test_learning_rate_scheduler_table(schedule, expected):
    assert _scheduled(schedule) == [pytest.approx(e) for e in expected]


def test_scheduler_is_called_per_param_group():
    assert _scheduled(lambda e, lr: lr * 0.5, epochs=1, lrs=(1.0, 0.1)) == [[0.5, 0.05]]


def test_scheduler_verbose(capsys):
    drive(LearningRateScheduler(lambda e, lr: 0.01, verbose=1), [{}])
    out = capsys.readouterr().out
    assert "Epoch 1: LearningRateScheduler setting learning rate to 0.01." in out


@pytest.mark.parametrize(
    ("schedule", "error", "match"),
    [
        (lambda e, lr: "fast", TypeError, r"must return a number.*epoch 0 it returned a str"),
        (lambda e, lr: None, TypeError, r"Received: lr=None"),
        (lambda e, lr: -0.1, ValueError, r"invalid learning rate at epoch 0.*>= 0"),
        (lambda e, lr: float("nan"), ValueError, r"Received: lr=nan"),
    ],
)
def test_scheduler_bad_output(schedule, error, match):
    with pytest.raises(error, match=match):
        drive(LearningRateScheduler(schedule), [{}])


def test_scheduler_needs_a_function():
    with pytest.raises(TypeError, match=r"`schedule` must be a function.*Received: schedule=0.1"):
        LearningRateScheduler(0.1)

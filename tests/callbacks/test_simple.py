"""TerminateOnNaN and LambdaCallback."""

from __future__ import annotations

import math
import warnings

import pytest

from cnnkit.callbacks import LambdaCallback, TerminateOnNaN
from tests.callbacks._fakes import FakeModel, drive


@pytest.mark.parametrize(
    ("bad_at", "value", "ran", "message"),
    [
        ((0, 2), math.nan, 1, r"invalid loss nan at epoch 1/3, batch 3/4; terminating training"),
        ((1, 0), math.inf, 2, r"invalid loss inf at epoch 2/3, batch 1/4"),
        ((2, 3), -math.inf, 3, r"invalid loss -inf at epoch 3/3, batch 4/4"),
    ],
)
def test_terminate_on_nan(bad_at, value, ran, message):
    model = FakeModel()
    cb = TerminateOnNaN()

    def batch_logs(epoch, batch):
        return {"loss": value if (epoch, batch) == bad_at else 0.5}

    with pytest.warns(RuntimeWarning, match=message):
        assert drive(cb, [{}] * 3, model=model, steps=4, batch_logs=batch_logs) == ran
    assert model.stop_training is True
    assert cb.stopped_at == bad_at


def test_terminate_on_nan_leaves_finite_losses_alone():
    model = FakeModel()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        drive(
            TerminateOnNaN(), [{}] * 2, model=model, steps=3, batch_logs=lambda e, b: {"loss": 1e30}
        )
    assert model.stop_training is False


def test_lambda_callback_calls_every_hook_with_keras_arguments():
    calls = []
    cb = LambdaCallback(
        on_train_begin=lambda logs: calls.append(("train_begin",)),
        on_epoch_begin=lambda epoch, logs: calls.append(("epoch_begin", epoch)),
        on_batch_end=lambda batch, logs: calls.append(("batch_end", batch, logs["loss"])),
        on_epoch_end=lambda epoch, logs: calls.append(("epoch_end", epoch, logs["loss"])),
        on_train_end=lambda logs: calls.append(("train_end",)),
        on_test_end=lambda logs: calls.append(("test_end",)),
    )
    drive(cb, [{"loss": 9.0}], steps=2, batch_logs=lambda e, b: {"loss": float(b)})
    cb.on_test_end({})
    assert calls == [
        ("train_begin",),
        ("epoch_begin", 0),
        ("batch_end", 0, 0.0),
        ("batch_end", 1, 1.0),
        ("epoch_end", 0, 9.0),
        ("train_end",),
        ("test_end",),
    ]


def test_lambda_callback_hooks_not_given_do_nothing():
    drive(LambdaCallback(), [{"loss": 1.0}], steps=1)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"on_epoch_ends": print},
            ValueError,
            r"Unknown LambdaCallback hook 'on_epoch_ends'.*Did you mean 'on_epoch_end'",
        ),
        ({"on_epoch_end": "print"}, TypeError, r"`on_epoch_end` must be a function"),
        ({"on_test_batch_end": 1}, TypeError, r"Received: on_test_batch_end=1"),
    ],
)
def test_lambda_callback_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        LambdaCallback(**kwargs)

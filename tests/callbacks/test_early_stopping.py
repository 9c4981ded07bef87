"""EarlyStopping, table-driven: per-epoch logs in, stop epoch and restored weights out."""

from __future__ import annotations

import json

import pytest
import torch

from cnnkit.callbacks import EarlyStopping
from tests.callbacks._fakes import FakeModel, drive, series

# (kwargs, monitored values, epochs that run, stopped_epoch, best_epoch)
CASES = [
    ({}, [1.0, 0.9, 0.95, 0.8], 3, 2, 1),
    ({"patience": 2}, [1.0, 0.9, 0.95, 0.97, 0.5], 4, 3, 1),
    ({"patience": 2}, [1.0, 0.9, 0.95, 0.85, 0.86, 0.87], 6, 5, 3),
    ({"patience": 1, "min_delta": 0.1}, [1.0, 0.95, 0.92], 2, 1, 0),
    ({"patience": 1, "min_delta": 0.1}, [1.0, 0.85, 0.7, 0.65], 4, 3, 2),
    ({"monitor": "val_accuracy", "patience": 1}, [0.5, 0.6, 0.6, 0.7], 3, 2, 1),
    ({"monitor": "val_accuracy", "mode": "min"}, [0.5, 0.6], 2, 1, 0),
    ({"patience": 2, "baseline": 0.5}, [0.9, 0.8, 0.7, 0.75], 4, 3, 2),
    ({"patience": 2}, [0.9, 0.8, 0.7, 0.75, 0.6], 5, 0, 4),  # the same without baseline
    ({"patience": 2, "baseline": 0.85}, [0.9, 0.8, 0.85, 0.86, 0.87], 4, 3, 1),
    ({"start_from_epoch": 2}, [1.0, 2.0, 3.0, 2.5, 2.6], 5, 4, 3),
    ({}, [1.0, 2.0, 3.0], 2, 1, 0),  # the same without start_from_epoch
    ({"patience": 10}, [1.0, 2.0, 3.0], 3, 0, 0),  # never stops
]


@pytest.mark.parametrize(("kwargs", "values", "ran", "stopped", "best_epoch"), CASES)
def test_early_stopping_table(kwargs, values, ran, stopped, best_epoch):
    cb = EarlyStopping(**kwargs)
    monitor = kwargs.get("monitor", "val_loss")
    assert drive(cb, series(monitor, values)) == ran
    assert cb.stopped_epoch == stopped
    assert cb.best_epoch == best_epoch
    assert cb.best == pytest.approx(values[best_epoch])


@pytest.mark.parametrize("stops", [True, False])
def test_restore_best_weights(stops):
    model = FakeModel()
    values = [1.0, 0.5, 0.7, 0.8] if stops else [1.0, 0.5, 0.7]
    cb = EarlyStopping(patience=2, restore_best_weights=True)
    drive(cb, series("val_loss", values), model=model)
    assert model.stop_training is stops
    # Weights are filled with the epoch index; the best epoch was 1. Keras 3 restores
    # at the end of training whether or not it stopped early.
    for p in model.parameters():
        assert torch.equal(p, torch.ones_like(p))


def test_best_weights_are_a_copy_not_a_view():
    model = FakeModel()
    cb = EarlyStopping(patience=5, restore_best_weights=True)
    drive(cb, series("val_loss", [0.1, 0.5]), model=model, end=False)
    assert all(torch.all(t == 0) for t in cb.best_weights.values())
    assert all(t.device.type == "cpu" for t in cb.best_weights.values())


def test_verbose_messages(capsys):
    drive(
        EarlyStopping(patience=1, verbose=1, restore_best_weights=True),
        series("val_loss", [1.0, 0.5, 0.7, 0.8]),
    )
    out = capsys.readouterr().out
    assert "Epoch 3: early stopping" in out
    assert "Restoring model weights from the end of the best epoch: 2." in out


@pytest.mark.parametrize("set_state_first", [True, False])
def test_state_round_trip_resumes_the_same_run(set_state_first):
    values = [1.0, 0.9, 0.95, 0.97, 0.99, 0.5]
    whole = EarlyStopping(patience=3)
    assert drive(whole, series("val_loss", values)) == 5

    first = EarlyStopping(patience=3)
    drive(first, series("val_loss", values[:3]), end=False)
    state = json.loads(json.dumps(first.get_state()))  # plain numbers survive JSON
    second = EarlyStopping(patience=3)
    model = FakeModel()
    if set_state_first:  # the engine may restore before or after on_train_begin
        second.set_state(state)
        ran = drive(second, series("val_loss", values[3:]), model=model, initial_epoch=3)
    else:
        second.set_model(model)
        second.on_train_begin()
        second.set_state(state)
        ran = drive(
            second, series("val_loss", values[3:]), model=model, initial_epoch=3, begin=False
        )
    assert ran == 2
    assert second.stopped_epoch == whole.stopped_epoch == 4
    assert second.get_state() == whole.get_state()


def test_resumed_run_cannot_restore_weights_from_before_the_restart():
    first = EarlyStopping(patience=3, restore_best_weights=True)
    drive(first, series("val_loss", [0.5, 0.9]), end=False)
    second = EarlyStopping(patience=3, restore_best_weights=True)
    second.set_state(first.get_state())
    model = FakeModel()
    with pytest.warns(RuntimeWarning, match=r"best epoch \(1\) came before training was resumed"):
        drive(second, series("val_loss", [0.8, 0.9]), model=model, initial_epoch=2)
    assert all(torch.all(p == 3) for p in model.parameters())  # final weights kept


def test_a_fresh_fit_resets_the_counters():
    cb = EarlyStopping(patience=1)
    drive(cb, series("val_loss", [1.0, 2.0]))
    assert cb.stopped_epoch == 1
    assert drive(cb, series("val_loss", [3.0])) == 1
    assert (cb.wait, cb.best, cb.stopped_epoch) == (0, 3.0, 0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"patience": -1}, r"EarlyStopping: `patience` must be a whole.*Received: patience=-1"),
        ({"patience": 1.5}, r"Received: patience=1.5"),
        ({"start_from_epoch": True}, r"`start_from_epoch` must be a whole number"),
    ],
)
def test_early_stopping_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        EarlyStopping(**kwargs)

"""The NaN guard of fit: stop at a non-finite loss with the weights from before the bad batch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from cnnkit import layers, metrics
from cnnkit.callbacks import TerminateOnNaN
from cnnkit.layers import Dense, Input
from cnnkit.models import Model, Sequential
from cnnkit.training import _nonfinite

BATCH, SAMPLES = 16, 96  # 6 batches per epoch


def _model(optimizer="adam"):
    torch.manual_seed(0)
    model = Sequential([Input((4,)), Dense(8, activation="relu"), Dense(3, activation="softmax")])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    return model


def _data(bad_batch=None):
    rng = np.random.default_rng(0)
    x = rng.random((SAMPLES, 4), dtype=np.float32)
    y = (x.sum(axis=1) * 3 // 4 % 3).astype(np.int64)
    if bad_batch is not None:
        x[bad_batch * BATCH + 5, 2] = np.nan
    return x, y


def _fit(model, x, y, **kwargs):
    kwargs = {"batch_size": BATCH, "epochs": 3, "verbose": 0, "shuffle": False, **kwargs}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(x, y, **kwargs)
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    return history, messages


def _reference(batches):
    """The same model trained on the first ``batches`` clean batches only."""
    model = _model()
    x, y = _data()
    model.fit(x[: batches * BATCH], y[: batches * BATCH], batch_size=BATCH, epochs=1,
              verbose=0, shuffle=False)  # fmt: skip
    return model


def _same_state(a, b):
    # By position: the automatic layer names of the two models differ.
    sa, sb = list(a.state_dict().values()), list(b.state_dict().values())
    weights = len(sa) == len(sb) and all(torch.equal(u, v) for u, v in zip(sa, sb, strict=True))
    oa, ob = a.optimizer.state_dict()["state"], b.optimizer.state_dict()["state"]
    optim = oa.keys() == ob.keys() and all(
        torch.equal(torch.as_tensor(oa[i][k]), torch.as_tensor(ob[i][k])) for i in oa for k in oa[i]
    )
    return weights and optim


def test_nan_input_stops_fit_with_the_weights_from_before_the_bad_batch():
    model = _model()
    history, messages = _fit(model, *_data(bad_batch=3))
    stops = [m for m in messages if m.startswith("fit() stopped")]
    assert len(stops) == 1, messages
    assert "epoch 1/3, batch 4/6 (1-based)" in stops[0]
    assert "from before that batch" in stops[0] and "contain NaN or inf" in stops[0]
    assert "learning rate (now 0.001" in stops[0]
    assert history.epoch == []  # the broken epoch is not recorded
    assert _same_state(model, _reference(3))  # weights AND Adam state after batches 1-3
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_huge_learning_rate_stops_with_finite_weights_and_names_the_rate():
    torch.manual_seed(0)
    model = Sequential([Input((4,)), Dense(3)])
    model.compile(optimizer=torch.optim.SGD(model.parameters(), lr=1e20), loss="mse")
    x = np.random.default_rng(0).random((SAMPLES, 4), dtype=np.float32)
    y = np.random.default_rng(1).random((SAMPLES, 3), dtype=np.float32)
    history, messages = _fit(model, x, y, epochs=5)
    stops = [m for m in messages if m.startswith("fit() stopped")]
    assert len(stops) == 1 and "learning rate (now 1e+20; try 10x smaller)" in stops[0]
    assert "range from 0" in stops[0] and "contain NaN" not in stops[0]
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert len(history.epoch) < 5


def test_continue_trains_on_and_warns_once():
    model = _model()
    history, messages = _fit(model, *_data(bad_batch=1), on_nonfinite="continue")
    assert history.epoch == [0, 1, 2]
    assert np.isnan(history.history["loss"]).all()
    warned = [m for m in messages if "on_nonfinite='continue'" in m and "training goes on" in m]
    assert len(warned) == 1 and "end of epoch 1" in warned[0]


def test_deferred_mode_restores_the_last_snapshot(monkeypatch):
    # The CUDA way (no host read per step), forced on the CPU: check every step.
    monkeypatch.setattr(_nonfinite, "DEFERRED_DEVICES", ("cpu",))
    monkeypatch.setattr(_nonfinite, "CHECK_SECONDS", 0.0)
    model = _model()
    _, messages = _fit(model, *_data(bad_batch=2))
    stops = [m for m in messages if m.startswith("fit() stopped")]
    assert len(stops) == 1 and "epoch 1/3, batch 3/6" in stops[0]
    assert "restored to those after batch 2 of epoch 1" in stops[0]
    assert _same_state(model, _reference(2))


def test_deferred_mode_at_the_epoch_end(monkeypatch):
    # Checked only where the epoch's logs are read (as in a distributed run).
    monkeypatch.setattr(_nonfinite, "DEFERRED_DEVICES", ("cpu",))
    model = _model()
    x, y = _data()
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=False)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    history, messages = _fit(model, *_data(bad_batch=4), epochs=2)
    stops = [m for m in messages if m.startswith("fit() stopped")]
    assert len(stops) == 1 and "batch 5/6" in stops[0] and "start of epoch 1" in stops[0]
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert history.epoch == []


def test_terminate_on_nan_keeps_keras_semantics_when_the_guard_is_off():
    model = _model()
    guard = TerminateOnNaN()
    history, messages = _fit(model, *_data(bad_batch=1), callbacks=[guard],
                             on_nonfinite="continue")  # fmt: skip
    assert guard.stopped_at == (0, 1) and history.epoch == [0]
    assert any("batch 2/6" in m for m in messages)


def test_unknown_mode_is_refused():
    model = _model()
    with pytest.raises(ValueError, match=r"unknown `on_nonfinite`.*'halt'.*'stop', 'continue'"):
        model.fit(*_data(), on_nonfinite="halt", verbose=0)


# --- a model's own train_step: the guard reads the dict it returns


class GanLikeStep(Model):
    """A custom step that reports two losses by name, as a GAN does (``d_loss``, ``g_loss``)."""

    def train_step(self, data):
        x, y = data
        self.steps_run += 1
        self.zero_grad()
        loss = ((self(x, training=True) - y) ** 2).mean()
        loss.backward()
        self.optimizer.apply()
        self.d_tracker.update_state(loss)
        # "accuracy" is not a loss: the guard must not stop on it alone.
        return {"d_loss": loss.detach(), "g_loss": torch.tensor(0.5), "accuracy": float("nan")}

    @property
    def metrics(self):
        return [self.d_tracker]


def _regression_data(bad_batch=None):
    rng = np.random.default_rng(0)
    x = rng.random((SAMPLES, 4), dtype=np.float32)
    y = x.sum(axis=1, keepdims=True).astype(np.float32)
    if bad_batch is not None:
        x[bad_batch * BATCH + 3, 1] = np.nan
    return x, y


def _step_model():
    torch.manual_seed(0)
    inputs = layers.Input(shape=(4,))
    model = GanLikeStep(inputs, layers.Dense(1)(inputs))
    model.d_tracker, model.steps_run = metrics.Mean(name="d_loss"), 0
    model.compile(optimizer="adam")
    return model


def test_a_nan_loss_in_the_returned_dict_stops_fit_at_that_batch():
    model = _step_model()
    history, messages = _fit(model, *_regression_data(bad_batch=2))
    stops = [m for m in messages if m.startswith("fit() stopped")]
    assert len(stops) == 1, stops
    assert "epoch 1/3, batch 3/6 (1-based)" in stops[0]
    assert "train_step() returned a non-finite 'd_loss'" in stops[0]
    assert "those after that batch" in stops[0] and "contain NaN or inf" in stops[0]
    assert model.steps_run == 3  # no step after the bad one
    assert history.epoch == []


def test_finite_losses_train_on_although_a_non_loss_value_is_nan():
    model = _step_model()
    history, messages = _fit(model, *_regression_data())
    assert not [m for m in messages if m.startswith("fit() stopped")]
    assert model.steps_run == 18 and history.epoch == [0, 1, 2]


def test_continue_mode_does_not_stop_a_custom_step():
    model = _step_model()
    _, messages = _fit(model, *_regression_data(bad_batch=0), on_nonfinite="continue")
    assert not [m for m in messages if m.startswith("fit() stopped")]
    assert model.steps_run == 18


def test_deferred_mode_stops_a_custom_step_at_the_epoch_end(monkeypatch):
    monkeypatch.setattr(_nonfinite, "DEFERRED_DEVICES", ("cpu",))
    model = _step_model()
    history, messages = _fit(model, *_regression_data(bad_batch=5))
    stops = [m for m in messages if m.startswith("fit() stopped")]
    assert len(stops) == 1, stops
    assert "epoch 1/3 (checked at the epoch end)" in stops[0]
    assert "non-finite 'd_loss'" in stops[0]
    assert model.steps_run == 6 and history.epoch == []


@pytest.mark.parametrize(
    ("logs", "watched"),
    [
        ({"d_loss": 1.0, "g_loss": 2.0, "acc": 3.0}, {"d_loss", "g_loss"}),
        ({"mae": 1.0}, {"mae"}),
    ],
)
def test_watched_losses_prefer_keys_naming_a_loss(logs, watched):
    assert set(_nonfinite.watched_losses(logs)) == watched

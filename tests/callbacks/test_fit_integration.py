"""The callbacks inside a real ``model.fit`` on a tiny synthetic dataset."""

from __future__ import annotations

import csv
import warnings

import numpy as np
import pytest
import torch

from cnnkit.callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    OneCycle,
    ReduceLROnPlateau,
    TensorBoard,
    TerminateOnNaN,
)
from cnnkit.layers import Dense, Input
from cnnkit.models import Sequential, load_model

SAMPLES, BATCH = 64, 16  # 4 batches per epoch


def _model(lr=0.05, optimizer="sgd"):
    torch.manual_seed(0)
    model = Sequential([Input((4,)), Dense(8, activation="relu"), Dense(3, activation="softmax")])
    opt = torch.optim.SGD if optimizer == "sgd" else torch.optim.Adam
    model.compile(
        optimizer=opt(model.parameters(), lr=lr),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def _data(nan=False):
    rng = np.random.default_rng(0)
    x = rng.random((SAMPLES, 4), dtype=np.float32)
    y = (x.sum(axis=1) * 3 // 4 % 3).astype(np.int64)
    if nan:
        x[BATCH + 3, 0] = np.nan  # one bad sample in the second batch (no shuffling)
    return x, y


def _fit(model, callbacks, epochs=3, validation=True, **kwargs):
    x, y = _data(kwargs.pop("nan", False))
    extra = {"validation_data": _data()} if validation else {}
    return model.fit(
        x, y, batch_size=BATCH, epochs=epochs, verbose=0, callbacks=callbacks, **extra, **kwargs
    )


def test_early_stopping_stops_fit_and_restores_best_weights():
    model = _model()
    snapshots = []
    keep = LambdaCallback(
        on_epoch_end=lambda e, logs: snapshots.append(
            {k: v.clone() for k, v in model.state_dict().items()}
        )
    )
    stop = EarlyStopping(monitor="plateau", patience=1, restore_best_weights=True)
    history = _fit(model, [InjectMetric([0.5, 0.1, 0.2, 0.3, 0.4]), keep, stop], epochs=5)
    assert history.epoch == [0, 1, 2]
    assert stop.stopped_epoch == 2 and stop.best_epoch == 1
    final = model.state_dict()
    assert all(torch.equal(final[k], snapshots[1][k]) for k in final)
    assert not all(torch.equal(final[k], snapshots[2][k]) for k in final)


def test_early_stopping_on_a_real_metric_with_nothing_learning():
    model = _model(lr=0.0)  # nothing changes, so nothing improves by min_delta
    history = _fit(model, [EarlyStopping(monitor="loss", patience=1, min_delta=1e-3)], epochs=10)
    assert history.epoch == [0, 1]


class InjectMetric(Callback):
    """Puts ``values[epoch]`` into the epoch logs as ``plateau`` for the callbacks after it."""

    def __init__(self, values):
        super().__init__()
        self.values = values

    def on_epoch_end(self, epoch, logs=None):
        logs["plateau"] = self.values[epoch]


def test_reduce_lr_on_plateau_lowers_the_optimizer_rate():
    model = _model(lr=0.4)
    history = _fit(
        model, [InjectMetric([1.0] * 3), ReduceLROnPlateau("plateau", factor=0.5, patience=0)]
    )
    # The engine logs the rate before the callbacks of that epoch end run.
    assert history.history["learning_rate"] == pytest.approx([0.4, 0.4, 0.2])
    assert model.optimizer.param_groups[0]["lr"] == pytest.approx(0.1)


def test_learning_rate_scheduler_sets_each_epoch_rate():
    history = _fit(_model(lr=1.0), [LearningRateScheduler(lambda e, lr: 0.1 / (e + 1))])
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.1 / 3])


def test_one_cycle_inside_fit_matches_torch_one_cycle_lr():
    model = _model(optimizer="adam")
    seen = []
    record = LambdaCallback(
        on_train_batch_begin=lambda b, logs: seen.append(model.optimizer.param_groups[0]["lr"])
    )
    _fit(model, [OneCycle(0.01), record], epochs=3)
    ref = _model(optimizer="adam")
    sched = torch.optim.lr_scheduler.OneCycleLR(ref.optimizer, 0.01, total_steps=12)
    expected = []
    for _ in range(12):
        expected.append(ref.optimizer.param_groups[0]["lr"])
        ref.optimizer.step()
        sched.step()
    assert seen == pytest.approx(expected, rel=1e-12)


def test_checkpoint_best_only_saves_a_loadable_model(tmp_path):
    model = _model()
    ckpt = ModelCheckpoint(tmp_path / "ckpt-{epoch:02d}.cnnkit", "plateau", save_best_only=True)
    _fit(model, [InjectMetric([0.5, 0.7]), ckpt], epochs=2)
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt-01.cnnkit"]
    restored = load_model(ckpt.last_saved)
    assert restored.count_params() == model.count_params()


def test_checkpoint_weights_every_two_batches(tmp_path):
    model = _model()
    ckpt = ModelCheckpoint(
        tmp_path / "w-{epoch}-{batch}.weights.safetensors", save_weights_only=True, save_freq=2
    )
    _fit(model, [ckpt], epochs=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "w-1-2.weights.safetensors",
        "w-1-4.weights.safetensors",
    ]
    fresh = _model()
    fresh.load_weights(tmp_path / "w-1-4.weights.safetensors")
    for a, b in zip(fresh.parameters(), model.parameters(), strict=True):
        assert torch.equal(a, b)  # the last batch's save holds the final weights


def test_csv_logger_rows_equal_history(tmp_path):
    history = _fit(_model(), [CSVLogger(tmp_path / "history.csv")])
    with open(tmp_path / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    for key, values in history.history.items():
        assert [float(r[key]) for r in rows] == pytest.approx(values)


def test_tensorboard_scalars_equal_history(tmp_path):
    ea = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    history = _fit(_model(), [TensorBoard(tmp_path, histogram_freq=1)])
    for split, prefix in (("train", ""), ("validation", "val_")):
        acc = ea.EventAccumulator(str(tmp_path / split))
        acc.Reload()
        for key in ("loss", "accuracy"):
            values = [e.value for e in acc.Scalars(f"epoch_{key}")]
            assert values == pytest.approx(history.history[prefix + key], rel=1e-6)
    train = ea.EventAccumulator(str(tmp_path / "train"))
    train.Reload()
    lrs = [e.value for e in train.Scalars("epoch_learning_rate")]
    assert lrs == pytest.approx(history.history["learning_rate"])
    assert len(train.Tags()["histograms"]) == 4  # two Dense layers: kernel and bias each


def test_terminate_on_nan_stops_at_the_bad_batch():
    # Keras' semantics, so fit's own guard (on_nonfinite="stop") is switched off here.
    model = _model()
    guard = TerminateOnNaN()
    with pytest.warns(RuntimeWarning) as record:
        history = _fit(
            model, [guard], validation=False, nan=True, shuffle=False, on_nonfinite="continue"
        )
    messages = [str(w.message) for w in record]
    assert any("invalid loss nan at epoch 1/3, batch 2/4" in m for m in messages), messages
    assert guard.stopped_at == (0, 1)
    assert len(history.epoch) == 1


def test_tensorboard_graph_of_a_cnnkit_model_without_trace_warnings(tmp_path):
    ea = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _fit(_model(), [TensorBoard(tmp_path, write_graph=True)], epochs=1, validation=False)
    acc = ea.EventAccumulator(str(tmp_path / "train"))
    acc.Reload()
    assert acc.Tags()["graph"] is True


class Crash(Exception):
    """Stands in for a killed process (the SIGKILL test lives with BackupAndRestore)."""


def test_one_cycle_resumes_mid_epoch_with_backup_and_restore(tmp_path):
    from cnnkit.callbacks import BackupAndRestore

    def run(crash_at=None):
        model = _model(optimizer="adam")
        seen = []

        def on_batch_begin(batch, logs):
            seen.append(model.optimizer.param_groups[0]["lr"])

        def on_batch_end(batch, logs):
            if (len(seen) - 1) == crash_at:
                raise Crash

        callbacks = [
            BackupAndRestore(tmp_path / "backup", save_freq=3),
            OneCycle(0.01),
            LambdaCallback(on_train_batch_begin=on_batch_begin, on_train_batch_end=on_batch_end),
        ]
        _fit(model, callbacks, validation=False, shuffle=False)
        return model, seen

    whole, whole_lrs = run()
    assert len(whole_lrs) == 12
    with pytest.raises(Crash):
        run(crash_at=7)  # in epoch 1, batch 3; the last backup was after 6 batches
    resumed, resumed_lrs = run()
    assert resumed_lrs == whole_lrs[6:]
    for a, b in zip(resumed.parameters(), whole.parameters(), strict=True):
        assert torch.equal(a, b)


def test_keras_course_checkpoint_name_round_trips_through_load_model(tmp_path):
    model = _model()
    with pytest.warns(UserWarning, match=r"Keras extension"):
        ckpt = ModelCheckpoint(
            str(tmp_path / "best_model.h5"), monitor="val_loss", save_best_only=True
        )
    _fit(model, [ckpt], epochs=1)
    restored = load_model(str(tmp_path / "best_model.h5"))
    for a, b in zip(restored.parameters(), model.parameters(), strict=True):
        assert torch.equal(a, b)

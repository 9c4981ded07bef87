"""TensorBoard writes real event files; the tensorboard package reads them back."""

from __future__ import annotations

import sys

import pytest

from cnnkit.callbacks import TensorBoard
from tests.callbacks._fakes import FakeModel, drive

event_accumulator = pytest.importorskip(
    "tensorboard.backend.event_processing.event_accumulator",
    reason="the tensorboard package (cnnkit[tensorboard]) is not installed",
)

LOGS = [
    {"loss": 1.5, "accuracy": 0.5, "val_loss": 1.25, "val_accuracy": 0.625, "learning_rate": 0.1},
    {"loss": 0.75, "accuracy": 0.75, "val_loss": 1.0, "val_accuracy": 0.6875, "learning_rate": 0.5},
]


def _load(path):
    acc = event_accumulator.EventAccumulator(
        str(path), size_guidance={event_accumulator.SCALARS: 0, event_accumulator.HISTOGRAMS: 0}
    )
    acc.Reload()
    return acc


def _scalars(acc, tag):
    return [(e.step, e.value) for e in acc.Scalars(tag)]


def test_epoch_scalars_for_train_and_validation(tmp_path):
    drive(TensorBoard(tmp_path), LOGS)
    train, val = _load(tmp_path / "train"), _load(tmp_path / "validation")
    train_tags = sorted(train.Tags()["scalars"])
    assert train_tags == ["epoch_accuracy", "epoch_learning_rate", "epoch_loss"]
    assert sorted(val.Tags()["scalars"]) == ["epoch_accuracy", "epoch_loss"]
    for key in ("loss", "accuracy", "learning_rate"):
        assert _scalars(train, f"epoch_{key}") == [(e, pytest.approx(LOGS[e][key])) for e in (0, 1)]
    for key in ("loss", "accuracy"):
        expected = [(e, pytest.approx(LOGS[e][f"val_{key}"])) for e in (0, 1)]
        assert _scalars(val, f"epoch_{key}") == expected


def test_learning_rate_read_from_the_optimizer_when_not_logged(tmp_path):
    drive(TensorBoard(tmp_path), [{"loss": 1.0}], model=FakeModel(lrs=(0.25,)))
    train = _load(tmp_path / "train")
    assert _scalars(train, "epoch_learning_rate") == [(0, 0.25)]
    assert not (tmp_path / "validation").exists()  # no val_ logs, no validation run


def test_batch_scalars_every_update_freq_batches(tmp_path):
    drive(
        TensorBoard(tmp_path, update_freq=2),
        [{"loss": 1.0}] * 2,
        steps=3,
        batch_logs=lambda e, b: {"loss": 10.0 * e + b},
    )
    # Six batches, logged after batches 2, 4 and 6 (steps count batches done).
    assert _scalars(_load(tmp_path / "train"), "batch_loss") == [(2, 1.0), (4, 10.0), (6, 12.0)]


def test_weight_histograms_every_histogram_freq_epochs(tmp_path):
    model = FakeModel()
    drive(TensorBoard(tmp_path, histogram_freq=2), [{"loss": 1.0}] * 3, model=model)
    train = _load(tmp_path / "train")
    tags = sorted(train.Tags()["histograms"])
    assert tags == ["dense/bias", "dense/weight", "extra/bias", "extra/weight"]
    events = train.Histograms("dense/weight")
    assert [e.step for e in events] == [0, 2]
    # Weights are filled with the epoch index by the driver: epoch 2 → all 2.0.
    assert events[1].histogram_value.min == events[1].histogram_value.max == 2.0
    assert events[1].histogram_value.num == 6


def test_write_graph_and_steps_per_second(tmp_path):
    drive(
        TensorBoard(tmp_path, write_graph=True, write_steps_per_second=True),
        [{"loss": 1.0}],
        steps=2,
    )
    train = _load(tmp_path / "train")
    assert train.Tags()["graph"] is True
    assert _scalars(train, "epoch_steps_per_second")[0][1] > 0


def test_write_graph_without_input_shape_warns(tmp_path):
    model = FakeModel()
    model.input_shape = None
    with pytest.warns(RuntimeWarning, match=r"write_graph=True needs `model.input_shape`"):
        drive(TensorBoard(tmp_path, write_graph=True), [{"loss": 1.0}], model=model)


def test_resumed_global_step_continues_batch_steps(tmp_path):
    cb = TensorBoard(tmp_path, update_freq=1)
    cb.set_state({"global_step": 7})
    drive(cb, [{"loss": 1.0}], steps=1, batch_logs=lambda e, b: {"loss": 3.0})
    assert _scalars(_load(tmp_path / "train"), "batch_loss") == [(8, 3.0)]
    assert cb.get_state() == {"global_step": 8}


def test_keras_arguments_are_accepted(tmp_path):
    TensorBoard(tmp_path, write_images=False, profile_batch=0, embeddings_freq=0)
    with pytest.warns(RuntimeWarning, match=r"`write_images` is not supported"):
        TensorBoard(tmp_path, write_images=True)


def test_missing_tensorboard_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    with pytest.raises(ImportError, match=r"pip install 'cnnkit\[tensorboard\]'"):
        TensorBoard(tmp_path)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"update_freq": "batch"}, ValueError, r"unrecognised `update_freq`.*'batch'"),
        ({"update_freq": 0}, ValueError, r"Received: update_freq=0"),
        ({"histogram_freq": -1}, ValueError, r"`histogram_freq` must be a whole number"),
        ({"log_dir": 3}, TypeError, r"`log_dir` must be a path"),
        (
            {"embedings_freq": 1},
            TypeError,
            r"unexpected keyword argument 'embedings_freq'.*Valid choices: 'embeddings_freq'",
        ),
    ],
)
def test_errors(tmp_path, kwargs, error, match):
    kwargs.setdefault("log_dir", tmp_path)
    with pytest.raises(error, match=match):
        TensorBoard(**kwargs)

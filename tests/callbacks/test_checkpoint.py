"""ModelCheckpoint, table-driven: which epochs/batches save, under which file names."""

from __future__ import annotations

import json

import pytest
import torch

from cnnkit.callbacks import ModelCheckpoint
from tests.callbacks._fakes import FakeModel, drive, read_state_dict, series

# (kwargs, monitored values, 0-based epochs that save)
BEST_ONLY_CASES = [
    ({}, [1.0, 2.0, 0.5], [0, 2]),
    ({"monitor": "val_accuracy"}, [0.5, 0.4, 0.6, 0.6], [0, 2]),
    ({"monitor": "val_accuracy", "mode": "min"}, [0.5, 0.4, 0.6], [0, 1]),
    ({"initial_value_threshold": 0.8}, [1.0, 0.9, 0.7], [2]),
    ({"monitor": "loss"}, [3.0, 2.0, 1.0], [0, 1, 2]),
]


@pytest.mark.parametrize(("kwargs", "values", "saved_epochs"), BEST_ONLY_CASES)
def test_save_best_only_table(tmp_path, kwargs, values, saved_epochs):
    model = FakeModel()
    cb = ModelCheckpoint(tmp_path / "e{epoch}.cnnkit", save_best_only=True, **kwargs)
    drive(cb, series(kwargs.get("monitor", "val_loss"), values), model=model)
    assert model.saved == [("model", str(tmp_path / f"e{e + 1}.cnnkit")) for e in saved_epochs]
    assert cb.best == pytest.approx(values[saved_epochs[-1]])


def test_every_epoch_with_a_template_writes_real_files(tmp_path):
    model = FakeModel()
    template = str(tmp_path / "run" / "ckpt-{epoch:02d}-{val_loss:.3f}.cnnkit")
    drive(ModelCheckpoint(template), series("val_loss", [1.0, 0.41234]), model=model)
    names = sorted(p.name for p in (tmp_path / "run").iterdir())
    assert names == ["ckpt-01-1.000.cnnkit", "ckpt-02-0.412.cnnkit"]
    # Weights of epoch 1 were filled with 1.0 (see drive); the file holds them.
    tensors = read_state_dict(tmp_path / "run" / "ckpt-02-0.412.cnnkit")
    assert all(torch.all(t == 1.0) for t in tensors.values())


@pytest.mark.parametrize("name", ["best.weights.safetensors", "w.safetensors"])
def test_save_weights_only(tmp_path, name):
    model = FakeModel()
    drive(
        ModelCheckpoint(tmp_path / name, save_weights_only=True),
        series("val_loss", [1.0]),
        model=model,
    )
    assert model.saved == [("weights", str(tmp_path / name))]
    assert (tmp_path / name).is_file()


def test_save_freq_in_batches_spans_epochs(tmp_path):
    model = FakeModel()
    cb = ModelCheckpoint(tmp_path / "b{epoch}-{batch}.cnnkit", save_freq=3)
    drive(
        cb,
        series("val_loss", [1.0, 1.0]),
        model=model,
        steps=5,
        batch_logs=lambda e, b: {"loss": 1.0},
    )
    # 10 batches, a save after every 3rd: epoch 1 batch 3, epoch 2 batches 1 and 4 (1-based).
    assert [p for _, p in model.saved] == [
        str(tmp_path / n) for n in ("b1-3.cnnkit", "b2-1.cnnkit", "b2-4.cnnkit")
    ]


def test_save_freq_state_resumes_the_batch_count(tmp_path):
    cb = ModelCheckpoint(tmp_path / "b{epoch}-{batch}.cnnkit", save_freq=4)
    drive(cb, [{}], steps=3, end=False)
    state = json.loads(json.dumps(cb.get_state()))
    assert state == {"best": None, "batches_since_save": 3, "last_batch_seen": 2}
    resumed = ModelCheckpoint(tmp_path / "b{epoch}-{batch}.cnnkit", save_freq=4)
    resumed.set_state(state)
    model = FakeModel()
    drive(resumed, [{}], steps=3, initial_epoch=1, model=model)
    assert [p for _, p in model.saved] == [str(tmp_path / "b2-1.cnnkit")]


def test_best_survives_a_resume(tmp_path):
    first = ModelCheckpoint(tmp_path / "m.cnnkit", save_best_only=True)
    drive(first, series("val_loss", [0.5]))
    resumed = ModelCheckpoint(tmp_path / "m.cnnkit", save_best_only=True)
    resumed.set_state(first.get_state())
    model = FakeModel()
    drive(resumed, series("val_loss", [0.7, 0.4]), model=model, initial_epoch=1)
    assert len(model.saved) == 1 and resumed.best == 0.4


def test_verbose_messages(tmp_path, capsys):
    drive(
        ModelCheckpoint(tmp_path / "m.cnnkit", save_best_only=True, verbose=1),
        series("val_loss", [1.0, 2.0]),
    )
    out = capsys.readouterr().out
    assert f"Epoch 1: val_loss improved from None to 1.0, saving model to {tmp_path}" in out
    assert "Epoch 2: val_loss did not improve from 1.0" in out


@pytest.mark.parametrize(
    ("template", "logs", "match"),
    [
        (
            "m-{val_los:.3f}.cnnkit",
            {"val_loss": 1.0, "loss": 2.0},
            r"uses the key 'val_los', which is not available.*Did you mean 'val_loss'\?"
            r".*Valid choices: 'epoch', 'loss', 'val_loss'",
        ),
        ("m-{batch}.cnnkit", {"loss": 2.0}, r"key 'batch'.*Valid choices: 'epoch', 'loss'"),
        (
            "m-{val_loss:02d}.cnnkit",
            {"val_loss": 1.0},
            r"cannot fill the filepath template.*Unknown format code 'd'",
        ),
    ],
)
def test_template_errors_at_save_time(tmp_path, template, logs, match):
    with pytest.raises(ValueError, match=match):
        drive(ModelCheckpoint(tmp_path / template), [logs])


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        (("m.pt",), {}, ValueError, r"must end in `.cnnkit`.*Received: filepath='m.pt'"),
        (("m.weights.h5",), {}, ValueError, r"weights only: pass save_weights_only=True"),
        (("m.keras",), {"save_weights_only": True}, ValueError, r"whole model: drop save_weights"),
        (("m.safetensors",), {}, ValueError, r"weights only: pass save_weights_only=True"),
        (
            ("m.cnnkit",),
            {"save_weights_only": True},
            ValueError,
            r"`save_weights_only=True` the filepath must end in `.weights.safetensors`",
        ),
        ((3,), {}, TypeError, r"`filepath` must be a path.*Received: filepath=3"),
        (("m-{epoch.cnnkit",), {}, ValueError, r"not a valid format string"),
        (("m-{}.cnnkit",), {}, ValueError, r"unnamed field"),
        (
            ("m.cnnkit",),
            {"save_freq": 0},
            ValueError,
            r"unrecognised `save_freq`.*'epoch' or a positive integer.*Received: save_freq=0",
        ),
        (("m.cnnkit",), {"save_freq": "batch"}, ValueError, r"Received: save_freq='batch'"),
        (("m.cnnkit",), {"save_freq": True}, ValueError, r"Received: save_freq=True"),
        (("m.cnnkit",), {"mode": "best"}, ValueError, r"unknown `mode` 'best'"),
        (
            ("m.cnnkit",),
            {"initial_value_threshold": "0.5"},
            TypeError,
            r"`initial_value_threshold` must be a number",
        ),
    ],
)
def test_constructor_errors(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        ModelCheckpoint(*args, **kwargs)


@pytest.mark.parametrize(
    ("name", "weights_only"),
    [
        ("best_model.h5", False),
        ("model.keras", False),
        ("weights.best.hdf5", True),
        ("w.weights.h5", True),
    ],
)
def test_keras_file_names_work_with_a_warning(tmp_path, name, weights_only):
    # Course code: ModelCheckpoint("best_model.h5", save_best_only=True) must run unchanged.
    with pytest.warns(UserWarning, match=r"has a Keras extension; cnnkit writes its own"):
        cb = ModelCheckpoint(tmp_path / name, save_weights_only=weights_only)
    model = FakeModel()
    drive(cb, series("val_loss", [1.0]), model=model)
    assert model.saved == [("weights" if weights_only else "model", str(tmp_path / name))]

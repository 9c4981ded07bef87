"""Acceptance 3: save -> load round trips, atomic writes, hostile and corrupted files."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

import cnnkit.models._saving as saving
from cnnkit.layers import (
    Activation,
    Add,
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAveragePooling2D,
    Input,
    Layer,
    MaxPooling2D,
)
from cnnkit.models import Model, Sequential, load_model, register_serializable
from cnnkit.models._files import read_safetensors
from tests.models.test_model import TinyNet


def residual_model() -> Model:
    inputs = Input(shape=(12, 12, 3))
    x = Conv2D(8, 3, padding="same", activation="relu")(inputs)
    shortcut = x
    x = Conv2D(8, 3, padding="same")(x)
    x = BatchNormalization()(x)
    x = Activation("relu")(Add()([shortcut, x]))
    x = GlobalAveragePooling2D()(x)
    return Model(inputs, Dense(5, activation="softmax")(Dropout(0.3)(x)), name="resnet_tiny")


def sequential_model() -> Sequential:
    return Sequential(
        [
            Input(shape=(12, 12, 3)),
            Conv2D(4, 3, activation="relu", kernel_regularizer="l2"),
            BatchNormalization(),
            MaxPooling2D(),
            Flatten(),
            Dense(6, activation="softmax"),
        ]
    )


def _perturb_batchnorm(model: Model) -> None:
    # Non-default statistics, so the round trip must carry buffers too.
    for m in model.modules():
        if isinstance(m, BatchNormalization):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
            m.num_batches_tracked.fill_(7)


@pytest.mark.parametrize("build", [residual_model, sequential_model])
def test_round_trip_gives_identical_predictions_and_summary(build, tmp_path):
    model = build()
    _perturb_batchnorm(model)
    path = tmp_path / "model.cnnkit"
    model.save(path)
    loaded = load_model(path)
    assert type(loaded) is type(model)
    x = torch.randn(3, 12, 12, 3)
    model.eval(), loaded.eval()
    torch.testing.assert_close(loaded(x), model(x), rtol=0, atol=0)
    for a, b in zip(model.state_dict().values(), loaded.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert loaded.summary(show=False).to_json() == model.summary(show=False).to_json()
    assert loaded.get_config() == model.get_config()


def test_file_is_plain_safetensors_with_json_config(tmp_path):
    path = tmp_path / "m.cnnkit"
    sequential_model().save(path)
    metadata, tensors = read_safetensors(path)
    assert metadata["format"] == "cnnkit" and metadata["format_version"] == "1"
    assert json.loads(metadata["config"])["class_name"] == "Sequential"
    assert "conv2d.weight" in tensors and tensors["conv2d.weight"].shape == (4, 3, 3, 3)


def test_subclassed_model_round_trip(tmp_path):
    model = TinyNet(classes=3)
    path = tmp_path / "tiny.cnnkit"
    with pytest.raises(
        ValueError,
        match=r"Unknown layer class 'TinyNet' from module "
        r"'tests\.models\.test_model'.*register_serializable",
    ):
        model.save(path)
        load_model(path)
    loaded = load_model(path, custom_objects={"TinyNet": TinyNet})
    x = torch.randn(2, 8, 8, 3)
    model.eval(), loaded.eval()
    torch.testing.assert_close(loaded(x), model(x))


def test_registered_custom_layer_loads(tmp_path):
    class Scale(Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, inputs, training=None):
            return inputs * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    register_serializable(Scale)
    model = Sequential([Input(shape=(3,)), Scale(3.0), Dense(2)])
    model.save(tmp_path / "s.cnnkit")
    loaded = load_model(tmp_path / "s.cnnkit")
    assert isinstance(loaded.layers[0], Scale) and loaded.layers[0].factor == 3.0


def test_save_and_load_weights(tmp_path):
    model, other = residual_model(), residual_model()
    model.save_weights(tmp_path / "w.safetensors")
    other.load_weights(tmp_path / "w.safetensors")
    for a, b in zip(model.state_dict().values(), other.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match=r"holds weights only: use model\.load_weights"):
        load_model(tmp_path / "w.safetensors")


def test_weights_match_by_position_when_automatic_names_differ(tmp_path):
    model = sequential_model()
    model.save_weights(tmp_path / "w.safetensors")
    again = sequential_model()  # conv2d_1, batch_normalization_1, ... this time
    assert list(again.state_dict()) != list(model.state_dict())
    again.load_weights(tmp_path / "w.safetensors")
    for a, b in zip(model.state_dict().values(), again.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_weight_shape_mismatch_names_the_first_tensor(tmp_path):
    sequential_model().save_weights(tmp_path / "w.safetensors")
    wider = Sequential([Input(shape=(12, 12, 3)), Conv2D(5, 3, name="conv2d"),
                        BatchNormalization(name="batch_normalization"), MaxPooling2D(),
                        Flatten(), Dense(6, name="dense")])  # fmt: skip
    with pytest.raises(
        ValueError,
        match=r"tensor 'conv2d.weight' has the wrong shape.*"
        r"Expected shape \(5, 3, 3, 3\).*Received: conv2d.weight.shape=\(4, 3, 3, 3\)",
    ):
        wider.load_weights(tmp_path / "w.safetensors")
    renamed = Sequential([Input(shape=(12, 12, 3)), Conv2D(5, 3), BatchNormalization(),
                          MaxPooling2D(), Flatten(), Dense(6)])  # fmt: skip
    with pytest.raises(
        ValueError,
        match=r"tensor 'conv2d_1.weight' \(matched by position to "
        r"'conv2d.weight'\) has the wrong shape",
    ):
        renamed.load_weights(tmp_path / "w.safetensors")
    smaller = Sequential([Input(shape=(12, 12, 3)), Conv2D(4, 3, name="conv2d")])
    with pytest.raises(
        ValueError,
        match=r"has tensors the model does not have, starting with "
        r"'batch_normalization.weight'",
    ):
        smaller.load_weights(tmp_path / "w.safetensors")
    bigger = Sequential([Input(shape=(12, 12, 3)), Conv2D(4, 3, name="other")])
    with pytest.raises(ValueError, match=r"has no tensor 'other.weight'"):
        bigger.load_weights(tmp_path / "w.safetensors")


def test_compiled_model_is_recompiled_on_load(tmp_path):
    model = sequential_model()
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    model.save(tmp_path / "c.cnnkit")
    loaded = load_model(tmp_path / "c.cnnkit")
    assert isinstance(loaded.optimizer, torch.optim.SGD)
    assert load_model(tmp_path / "c.cnnkit", compile=False).optimizer is None


# ---------------------------------------------------------------------- atomic writes
def test_failure_mid_write_keeps_the_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "model.cnnkit"
    sequential_model().save(path)
    before = path.read_bytes()

    def broken_save_file(tensors, filename, metadata=None):
        Path(filename).write_bytes(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(saving, "save_file", broken_save_file)
    with pytest.raises(OSError, match="disk full"):
        residual_model().save(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["model.cnnkit"]


def test_write_is_fsynced_and_renamed(tmp_path, monkeypatch):
    calls: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: calls.append("fsync") or real_fsync(fd))
    monkeypatch.setattr(os, "replace", lambda a, b: calls.append("replace") or real_replace(a, b))
    sequential_model().save(tmp_path / "m.cnnkit")
    assert calls[:2] == ["fsync", "replace"]


# ---------------------------------------------------------------------- hostile files
class _Payload:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_pickle_payload_renamed_to_cnnkit_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.cnnkit"
    path.write_bytes(pickle.dumps(_Payload(marker)))
    with pytest.raises(ValueError, match=r"a Python pickle .* cnnkit never unpickles"):
        load_model(path)
    torch.save({"x": _Payload(marker)}, tmp_path / "evil2.cnnkit")
    with pytest.raises(ValueError, match=r"a zip archive"):
        load_model(tmp_path / "evil2.cnnkit")
    assert not marker.exists()


def _write_with_config(path: Path, entry: dict) -> None:
    metadata = {"format": "cnnkit", "format_version": "1", "config": json.dumps(entry),
                "build_input_shape": "null"}  # fmt: skip
    save_file({"w": torch.zeros(2)}, str(path), metadata=metadata)


@pytest.mark.parametrize(
    "entry",
    [
        {"class_name": "system", "module": "os", "config": {"command": "touch {marker}"}},
        {"class_name": "Popen", "module": "subprocess", "config": {"args": ["touch", "{marker}"]}},
        {"class_name": "system", "module": "cnnkit_evil", "config": {}},
        {"class_name": "Path", "module": "cnnkit.models._saving", "config": {}},  # not a Layer
        {"class_name": "Sequential", "module": "cnnkit.models._sequential",
         "config": {"layers": [{"class_name": "system", "module": "os",
                                "config": {"command": "touch {marker}"}}]}},
    ],
)  # fmt: skip
def test_config_naming_classes_outside_cnnkit_is_refused(tmp_path, entry):
    marker = tmp_path / "pwned"
    entry = json.loads(json.dumps(entry).replace("{marker}", str(marker)))
    path = tmp_path / "evil.cnnkit"
    _write_with_config(path, entry)
    with pytest.raises(ValueError, match=r"Unknown layer class .* refusing to import it"):
        load_model(path)
    assert not marker.exists()


# ---------------------------------------------------------------------- corrupted files
def test_truncated_file(tmp_path):
    path = tmp_path / "m.cnnkit"
    sequential_model().save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 100])
    with pytest.raises(ValueError, match=r"truncated or corrupted: its header describes"):
        load_model(path)
    path.write_bytes(data[:5])
    with pytest.raises(ValueError, match=r"not a safetensors file, or a truncated/corrupted"):
        load_model(path)


def test_corrupted_header_and_config(tmp_path):
    path = tmp_path / "m.cnnkit"
    sequential_model().save(path)
    data = bytearray(path.read_bytes())
    data[10:20] = b"@@@@@@@@@@"
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"the safetensors header is corrupted"):
        load_model(path)
    metadata = {"format": "cnnkit", "format_version": "1", "config": "{not json"}
    save_file({"w": torch.zeros(1)}, str(path), metadata=metadata)
    with pytest.raises(
        ValueError,
        match=r"the `config` entry of the model file is missing or "
        r"corrupted",
    ):
        load_model(path)
    metadata["format_version"] = "99"
    save_file({"w": torch.zeros(1)}, str(path), metadata=metadata)
    with pytest.raises(ValueError, match=r"unsupported file format version"):
        load_model(path)


def test_bad_paths(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"No such model file"):
        load_model(tmp_path / "missing.cnnkit")
    with pytest.raises(TypeError, match=r"`filepath` must be a path"):
        load_model(123)


def test_unsavable_subclass_says_what_to_do(tmp_path):
    class NoConfig(Model):
        def __init__(self):
            super().__init__(input_shape=(2,))
            self.fc = Dense(1)
            self.build_from_config_shape()

        def call(self, x, training=None):
            return self.fc(x)

    with pytest.raises(ValueError, match=r"must define get_config\(\).*save_weights"):
        NoConfig().save(tmp_path / "x.cnnkit")
    assert np.isfinite(NoConfig()(np.ones((1, 2))).detach().numpy()).all()

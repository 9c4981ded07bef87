"""``cnnkit summary``: saved files and zoo names, in table, JSON and Markdown."""

from __future__ import annotations

import json
import sys
import types

import pytest

from cnnkit.cli import main
from cnnkit.layers import Conv2D, Dense, Flatten, Input, MaxPooling2D
from cnnkit.models import Sequential


@pytest.fixture
def saved(tmp_path):
    model = Sequential(
        [
            Input(shape=(28, 28, 1)),
            Conv2D(8, 3, activation="relu"),
            MaxPooling2D(),
            Flatten(),
            Dense(10, activation="softmax"),
        ]
    )
    path = tmp_path / "small.cnnkit"
    model.save(path)
    return path, model.count_params()


def test_table_from_a_saved_file(saved, capsys):
    path, total = saved
    assert main(["summary", str(path), "--formulas", "--cost"]) == 0
    out = capsys.readouterr().out
    assert "conv2d (Conv2D)" in out and "(None, 26, 26, 8)" in out
    assert f"Total params: {total:,}" in out
    assert "8 × (3×3×1) + 8 = 80" in out
    assert "FLOPs = 2 × MACs" in out


def test_json_and_markdown(saved, capsys):
    path, total = saved
    assert main(["summary", str(path), "--format", "json", "--cost", "--optimizer", "sgd"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["total_params"] == total
    assert data["training"]["optimizer"] == "sgd"
    assert main(["summary", str(path), "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("**Model: sequential**") and "| conv2d (Conv2D) |" in out


def test_zoo_names_go_through_the_zoo_registry(monkeypatch, capsys):
    calls = []

    def get_model(name, **kwargs):
        calls.append((name, kwargs))
        return Sequential([Input(shape=kwargs.get("input_shape", (4,))), Dense(3)])

    zoo = types.ModuleType("cnnkit.applications")
    zoo.get_model = get_model
    monkeypatch.setitem(sys.modules, "cnnkit.applications", zoo)
    assert main(["summary", "tinynet", "--input-shape", "6"]) == 0
    assert calls == [("tinynet", {"input_shape": (6,)})]
    assert "Total params: 21" in capsys.readouterr().out


def test_errors(saved, tmp_path, capsys):
    path, _ = saved
    assert main(["summary", str(path), "--input-shape", "32,32,1"]) == 2
    assert "--input-shape applies to zoo models only" in capsys.readouterr().err
    assert main(["summary", "x", "--input-shape", "a,b"]) == 2
    assert "--input-shape must be positive integers" in capsys.readouterr().err
    assert main(["summary", str(tmp_path / "missing.cnnkit")]) == 2
    assert "No such model file" in capsys.readouterr().err
    bogus = tmp_path / "bogus.cnnkit"
    bogus.write_bytes(b"\x80\x04hello world")
    assert main(["summary", str(bogus)]) == 2
    assert "cnnkit never unpickles" in capsys.readouterr().err


def test_real_zoo_model_by_name(capsys):
    # The zoo's "lenet5" defaults to the classic LeNet-5 on 32×32×1 (61,706 params).
    assert main(["summary", "lenet5", "--cost", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["total_params"] == 61_706
    assert data["input_shape"] == [None, 32, 32, 1]
    conv_macs = 28 * 28 * 6 * 25 + 10 * 10 * 16 * 150
    dense_macs = 400 * 120 + 120 * 84 + 84 * 10
    assert data["total_macs"] == conv_macs + dense_macs

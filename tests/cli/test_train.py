"""``cnnkit train`` / ``evaluate`` / ``predict`` end to end on tiny data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnnkit.cli import main

MODEL_FILE = """
from cnnkit.layers import Dense, Flatten, Input, Rescaling
from cnnkit.models import Sequential


def build(input_shape, classes):
    return Sequential([Input(input_shape), Rescaling(1 / 255), Flatten(),
                       Dense(classes, activation="softmax")])
"""


def _image_folder(root: Path, per_class: int = 12) -> Path:
    """train/ and validation/ with classes 'bottom' and 'top' (bright half of a 16×16 image)."""
    rng = np.random.default_rng(0)
    for split in ("train", "validation"):
        for c, name in enumerate(("bottom", "top")):
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(per_class):
                img = rng.integers(0, 60, (16, 16, 3), dtype=np.uint8)
                rows = slice(0, 8) if name == "top" else slice(8, 16)
                img[rows] += 150
                Image.fromarray(img).save(folder / f"{c}_{i}.png")
    return root


def test_train_evaluate_predict_on_a_folder_with_a_model_file(tmp_path, capsys):
    data = _image_folder(tmp_path / "shapes")
    model_file = tmp_path / "mymodel.py"
    model_file.write_text(MODEL_FILE)
    out = tmp_path / "run"
    rc = main(
        [
            "train",
            "--model",
            f"{model_file}:build",
            "--dataset",
            str(data),
            "--epochs",
            "3",
            "--image-size",
            "16",
            "--lr",
            "0.05",
            "--out",
            str(out),
            "--verbose",
            "0",
        ]
    )
    printed = capsys.readouterr().out
    assert rc == 0
    for name in ("model.cnnkit", "history.csv", "metrics.json", "curves.png", "classes.json"):
        assert (out / name).is_file(), name
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs"] == 3 and metrics["params"] == 16 * 16 * 3 * 2 + 2
    assert f"test accuracy: {metrics['test_accuracy']:.4f}" in printed
    rows = (out / "history.csv").read_text().splitlines()
    assert rows[0] == "epoch,accuracy,loss,val_accuracy,val_loss,learning_rate" and len(rows) == 4
    assert metrics["test_accuracy"] > 0.9  # the halves are easy to tell apart

    assert main(["evaluate", str(out / "model.cnnkit"), "--dataset", str(data)]) == 0
    assert f"test accuracy: {metrics['test_accuracy']:.4f}" in capsys.readouterr().out
    image = data / "validation" / "top" / "1_0.png"
    assert main(["predict", str(out / "model.cnnkit"), str(image), "--top-k", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == str(image) and lines[1].split()[:2] == ["1.", "top"]


def test_train_lenet5_on_a_slice_of_mnist(shared_data, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CNNKIT_DATA", str(shared_data))
    out = tmp_path / "lenet"
    rc = main(
        [
            "train",
            "--model",
            "lenet5",
            "--dataset",
            "mnist",
            "--epochs",
            "1",
            "--limit",
            "1000",
            "--out",
            str(out),
            "--verbose",
            "2",
        ]
    )
    printed = capsys.readouterr().out
    assert rc == 0 and "Epoch 1/1" in printed
    assert json.loads((out / "metrics.json").read_text())["params"] == 60_074


def test_train_without_model_uses_the_default_recipe(shared_data, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CNNKIT_DATA", str(shared_data))
    out = tmp_path / "recipe"
    argv = [
        "train",
        "--dataset",
        "mnist",
        "--epochs",
        "1",
        "--limit",
        "512",
        "--out",
        str(out),
        "--verbose",
        "0",
    ]
    assert main(argv) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["model"] == "recipe" and metrics["epochs"] == 1
    assert "test accuracy: " in capsys.readouterr().out


def test_the_default_recipe_takes_lr_schedule_and_validation_split(
    shared_data, tmp_path, monkeypatch
):
    monkeypatch.setenv("CNNKIT_DATA", str(shared_data))
    out = tmp_path / "recipe"
    argv = ["train", "--dataset", "mnist", "--epochs", "1", "--limit", "512", "--lr", "0.003",
            "--schedule", "constant", "--validation-split", "0.25", "--out", str(out),
            "--verbose", "0"]  # fmt: skip
    assert main(argv) == 0
    final = json.loads((out / "metrics.json").read_text())["final"]
    assert final["learning_rate"] == pytest.approx(0.003)  # constant: no one-cycle decay
    assert "val_accuracy" in final  # 128 of the 512 images held out


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["train", "--model", "lenet", "--dataset", "{data}"],
         "Unknown model 'lenet'.*Did you mean 'lenet5'"),
        (["train", "--model", "lenet5", "--dataset", "imagenet21k"],
         "Unknown dataset 'imagenet21k'.*'fashion_mnist'"),
        (["train", "--model", "{data}/m.py", "--dataset", "{data}"],
         "needs the function to call: FILE.py:FUNCTION"),
        (["train", "--model", "{data}/m.py:nope", "--dataset", "{data}"],
         "Unknown function in .*m.py 'nope'.*Valid choices: 'build'"),
        (["predict", "{data}/missing.cnnkit", "x.png"], "missing.cnnkit"),
    ],
)  # fmt: skip
def test_cli_errors_are_one_clean_line(tmp_path, capsys, argv, match):
    import re

    _image_folder(tmp_path, per_class=1)
    (tmp_path / "m.py").write_text(MODEL_FILE)
    argv = [a.replace("{data}", str(tmp_path)) for a in argv]
    assert main([*argv, "--out", str(tmp_path / "o")] if argv[0] == "train" else argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"cnnkit {argv[0]}: error: ") and err.count("\n") == 1
    assert re.search(match, err), err

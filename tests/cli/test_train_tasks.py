"""``cnnkit train --task``: the task CLI writes the classification artifacts and task plots."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from cnnkit.cli import main


def test_train_task_localize_writes_artifacts(shared_data, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("CNNKIT_DATA", str(shared_data))
    out = tmp_path / "loc"
    args = ["train", "--task", "localize", "--dataset", "mnist-canvas", "--epochs", "1"]
    assert main([*args, "--limit", "128", "--verbose", "0", "--out", str(out)]) == 0
    for name in ("model.cnnkit", "history.csv", "metrics.json", "curves.png", "boxes.png"):
        assert (out / name).exists(), name
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["task"] == "localize" and metrics["canvases"] == 128
    assert 0.0 <= metrics["mean_iou"] <= 1.0 and metrics["epochs"] == 1
    assert "class_accuracy:" in capsys.readouterr().out
    assert (out / "history.csv").read_text().startswith("epoch")


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--task", "detetc"], r"Unknown task 'detetc'.*Did you mean 'detect'"),
        (["--task", "detect", "--dataset", "cifar10"], r"Unknown dataset for --task detect"),
    ],
)
def test_train_task_refuses_unknown_names(args, match, tmp_path, capsys):
    assert main(["train", *args, "--out", str(tmp_path)]) != 0
    assert re.search(match, capsys.readouterr().err)


def test_localize_recipe_decays_the_rate_along_a_cosine(shared_data, monkeypatch):
    from cnnkit.tasks import train_task

    monkeypatch.setenv("CNNKIT_DATA", str(shared_data))
    _, history, _, _ = train_task("localize", epochs=2, train_canvases=64, test_canvases=8)
    # One batch of 64 per epoch, two steps in all: the rate in use after epoch 1 is the
    # step-0 rate 1e-3; after epoch 2 it is the step-1 rate, half-way down the cosine
    # to 1% of it: 1e-3 * (0.99 * 0.5 * (1 + cos(pi / 2)) + 0.01).
    np.testing.assert_allclose(history.history["learning_rate"], [1e-3, 5.05e-4], rtol=1e-6)
